// @vitest-environment jsdom
// The README's example is examples/todo-app.tsx, verbatim; this test renders it into a jsdom page
// against a real coordinator and a second replica, so the README cannot drift into fiction.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRoot } from 'react-dom/client';
import { App, openTodos } from '../examples/todo-app.js';
import { Harness } from '../../client/test/harness.js';
import { waitFor } from '../../client/test/helpers.js';
import { shown, withoutDomWebSocket } from './page.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('README example', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
    withoutDomWebSocket();
  });
  afterEach(async () => {
    vi.unstubAllGlobals();
    await h.dispose();
  });

  it('is the example file, and its page syncs with another replica', async () => {
    const readme = readFileSync(join(here, '../README.md'), 'utf8');
    const example = readFileSync(join(here, '../examples/todo-app.tsx'), 'utf8');
    expect(readme).toContain(example.trim());

    const coord = await h.coordinator();
    const app = openTodos(coord.url);
    h.defer(() => app.database.close());
    h.defer(() => app.sync.disconnect());
    const page = document.createElement('div');
    document.body.append(page);
    const root = createRoot(page);
    h.defer(() => {
      root.unmount();
      page.remove();
    });
    root.render(<App {...app} />);
    await waitFor(() => shown(page, 'sync-status')[0] === 'synced · everything synced', { what: 'synced' });

    const other = h.memoryDb();
    const otherTodos = other.declareTable('todos', app.todos.definition);
    await h.connectAll(coord.url, 'demo:todos', h.client(other));
    otherTodos.put({ id: 'milk', title: 'Buy milk', done: 0 });
    await waitFor(() => shown(page, 'todo-item').join() === 'Buy milkdelete', { what: 'the synced todo' });

    // Typing and Enter add a todo; the other replica receives it.
    const input = page.querySelector<HTMLInputElement>('[data-testid="new-todo"]')!;
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, 'Bake bread');
    input.dispatchEvent(new Event('input', { bubbles: true }));
    await waitFor(() => input.value === 'Bake bread', { what: 'the typed title' });
    input.form!.requestSubmit();
    await waitFor(() => shown(page, 'todo-item').length === 2, { what: 'the added todo' });
    await waitFor(() => otherTodos.list().some((t) => t.title === 'Bake bread'), {
      what: 'the todo on the other side',
    });

    // Ticking a todo hides it here and marks it done there.
    page.querySelector<HTMLInputElement>('[data-testid="todo-item"] input[type="checkbox"]')!.click();
    await waitFor(() => shown(page, 'todo-item').join() === 'Buy milkdelete', { what: 'the done todo to go' });
    await waitFor(() => otherTodos.list({ where: { done: 1 } }).length === 1, { what: 'done on the other side' });
  });
});
