// The admin page and its JSON API under `{basePath}/admin` (thin: the data comes from AdminView).
// Every answer is uncached; the API answers in the {ok, data|error} envelope of the sync routes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AdminError, AdminView, asksToOpen, parseDatabaseQuery, parseRowsQuery } from '../admin/index.js';
import type { CoordinatorService } from '../service/index.js';
import { ADMIN_COOKIE, AdminGate } from './admin-access.js';
import { AdminPage, type AdminPageView } from './admin-page.js';
import { envelopeError } from './error-mapping.js';

/** A login form is a few hundred bytes; nothing bigger is read. */
const LOGIN_BODY_BYTES = 4096;
/** The login cookie lasts a working day at most (and never past a restart). */
const COOKIE_MAX_AGE_S = 12 * 3600;

type Query = Record<string, unknown>;

export function registerAdminRoutes(app: FastifyInstance, service: CoordinatorService, basePath: string): void {
  const gate = new AdminGate(service.config);
  const view = new AdminView(service);
  const page = new AdminPage();
  const adminPath = `${basePath}/admin`;
  const maxPage = service.config.admin.maxPageSize;

  void app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: LOGIN_BODY_BYTES },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
    );

    scope.addHook('onRequest', async (request, reply) => {
      reply.header('cache-control', 'no-store');
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('x-frame-options', 'DENY');
      if (gate.mode === 'off') {
        return reply.code(404).send(
          envelopeError({
            code: 'ADMIN_DISABLED',
            message:
              'The admin page is off: auth is on and admin.token is not set. Set admin.token (SYNC_ADMIN_TOKEN or --admin-token) to turn it on.',
          }),
        );
      }
      const isLogin = request.url.startsWith(`${adminPath}/log`) && request.method === 'POST';
      if (isLogin || gate.allows(request)) return undefined;
      if (request.url.startsWith(`${adminPath}/api/`)) {
        reply.header('www-authenticate', 'Bearer realm="syncord-admin"');
        return reply.code(401).send(
          envelopeError({
            code: 'ADMIN_UNAUTHORIZED',
            message: `Send Authorization: Bearer <admin.token>, or log in at ${adminPath}`,
          }),
        );
      }
      return sendPage(reply, 'login', 401);
    });

    function sendPage(reply: FastifyReply, pageView: AdminPageView, status = 200): FastifyReply {
      return reply
        .code(status)
        .header('content-security-policy', page.csp)
        .type('text/html; charset=utf-8')
        .send(page.render(adminPath, pageView));
    }

    function setCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAge: number): void {
      const secure = request.protocol === 'https' ? '; Secure' : '';
      reply.header(
        'set-cookie',
        `${ADMIN_COOKIE}=${value}; Path=${adminPath}; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`,
      );
    }

    /** Runs an API read: its data in the envelope, or its AdminError as status and code. */
    async function answer(reply: FastifyReply, read: () => unknown): Promise<FastifyReply> {
      try {
        return reply.send({ ok: true, data: await read() });
      } catch (err) {
        if (!(err instanceof AdminError)) throw err;
        return reply.code(err.status).send(envelopeError({ code: err.code, message: err.message }));
      }
    }

    scope.get('/admin', async (_request, reply) => sendPage(reply, 'dashboard'));

    scope.post('/admin/login', async (request, reply) => {
      const body = request.body as { token?: unknown } | undefined;
      const token = typeof body?.token === 'string' ? body.token : '';
      if (gate.mode === 'open') return reply.redirect(adminPath, 303);
      if (!gate.tokenMatches(token)) return sendPage(reply, 'login-failed', 401);
      setCookie(request, reply, gate.cookieValue, COOKIE_MAX_AGE_S);
      return reply.redirect(adminPath, 303);
    });

    scope.post('/admin/logout', async (request, reply) => {
      setCookie(request, reply, '', 0);
      return reply.redirect(adminPath, 303);
    });

    scope.get('/admin/api/overview', async (_request, reply) => answer(reply, () => view.overview()));

    scope.get('/admin/api/databases', async (request, reply) =>
      answer(reply, () => view.databases(parseDatabaseQuery(request.query as Query, maxPage))),
    );

    scope.get('/admin/api/databases/:databaseId', async (request, reply) => {
      const { databaseId } = request.params as { databaseId: string };
      return answer(reply, () => view.database(databaseId, asksToOpen(request.query as Query)));
    });

    scope.get('/admin/api/databases/:databaseId/rows', async (request, reply) => {
      const { databaseId } = request.params as { databaseId: string };
      const query = request.query as Query;
      return answer(reply, () => view.rows(databaseId, parseRowsQuery(query, maxPage), asksToOpen(query)));
    });
  });
}
