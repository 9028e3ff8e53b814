// @vitest-environment jsdom
// The hooks rendered by react-dom into a jsdom document, over real replicas syncing through a real
// coordinator on 127.0.0.1: what the page shows must follow local writes, writes synced from
// another replica, deletions, and the sync state with its pending-write count.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRoot, type Root } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import type { LocalDatabase, SyncClient, Table } from '@syncord/client';
import { SyncordProvider, useQuery, useRow, useSyncStatus } from '@syncord/react';
import { Harness } from '../../client/test/harness.js';
import { waitFor } from '../../client/test/helpers.js';
import { shown as shownIn, withoutDomWebSocket } from './page.js';

const NOTES = {
  columns: { id: 'integer', title: 'text', done: 'integer' },
  primaryKey: ['id'],
} as const;
type Notes = Table<typeof NOTES>;

function NoteList({ notes }: { notes: Notes }) {
  const rows = useQuery(notes, { where: { done: 0 }, orderBy: { column: 'id', direction: 'desc' } });
  return (
    <ul>
      {rows.map((r) => (
        <li key={String(r.id)} data-testid="note">
          {r.title}
        </li>
      ))}
    </ul>
  );
}

function OneNote({ id }: { id: number }) {
  const row = useRow('notes', id);
  return <p data-testid="one">{row ? String(row['title']) : 'gone'}</p>;
}

function StatusBar({ seen }: { seen: string[] }) {
  const { status, pendingWrites } = useSyncStatus();
  const text = `${status.state} ${pendingWrites}`;
  if (seen.at(-1) !== text) seen.push(text);
  return <output data-testid="status">{text}</output>;
}

describe('@syncord/react hooks in a page', () => {
  let h: Harness;
  let root: Root | undefined;
  let page: HTMLElement;
  beforeEach(() => {
    h = new Harness();
    withoutDomWebSocket();
    page = document.createElement('div');
    document.body.append(page);
  });
  afterEach(async () => {
    root?.unmount();
    root = undefined;
    page.remove();
    vi.unstubAllGlobals();
    await h.dispose();
  });

  const shown = (testId: string): string[] => shownIn(page, testId);

  function render(database: LocalDatabase, sync: SyncClient | undefined, ui: React.ReactNode): void {
    root = createRoot(page);
    root.render(
      <SyncordProvider database={database} sync={sync}>
        {ui}
      </SyncordProvider>,
    );
  }

  /** Two replicas synced through one coordinator; A is the one on the page. */
  async function twoReplicas() {
    const coord = await h.coordinator();
    const a = h.memoryDb();
    const b = h.memoryDb();
    const notesA = a.declareTable('notes', NOTES);
    const notesB = b.declareTable('notes', NOTES);
    const ca = h.client(a);
    const cb = h.client(b);
    await h.connectAll(coord.url, 'db', ca, cb);
    return { coord, a, b, ca, cb, notesA, notesB };
  }

  it('useQuery re-renders on a local write and on a write synced from another replica', async () => {
    const { a, ca, notesA, notesB } = await twoReplicas();
    notesA.put({ id: 1, title: 'first', done: 0 });
    render(a, ca, <NoteList notes={notesA} />);
    await waitFor(() => shown('note').join() === 'first', { what: 'the first render' });

    notesA.put({ id: 2, title: 'local', done: 0 });
    await waitFor(() => shown('note').join() === 'local,first', { what: 'the local write on the page' });

    notesB.put({ id: 3, title: 'from B', done: 0 });
    await waitFor(() => shown('note').join() === 'from B,local,first', { what: "B's write on A's page" });

    // The query's filter holds too: a row leaving it leaves the page.
    notesB.put({ id: 2, done: 1 });
    await waitFor(() => shown('note').join() === 'from B,first', { what: 'the row B marked done to go' });
  });

  it('useRow follows one row, through local and synced edits, to its deletion', async () => {
    const { a, b, ca } = await twoReplicas();
    render(a, ca, <OneNote id={7} />);
    await waitFor(() => shown('one').join() === 'gone', { what: 'the missing row' });

    a.put('notes', { id: 7, title: 'created here' });
    await waitFor(() => shown('one').join() === 'created here', { what: 'the created row' });

    b.put('notes', { id: 8, title: 'another row' });
    b.put('notes', { id: 7, title: 'renamed by B' });
    await waitFor(() => shown('one').join() === 'renamed by B', { what: "B's rename" });
    expect(a.get('notes', 8)).toMatchObject({ title: 'another row' });

    b.delete('notes', 7);
    await waitFor(() => shown('one').join() === 'gone', { what: "B's delete" });
  });

  it('useSyncStatus shows pending writes rising while offline and back to 0 once synced', async () => {
    const { coord, a, ca } = await twoReplicas();
    const seen: string[] = [];
    render(a, ca, <StatusBar seen={seen} />);
    await waitFor(() => shown('status').join() === 'synced 0', { what: 'the synced status' });

    await ca.disconnect();
    await waitFor(() => shown('status').join() === 'offline 0', { what: 'the offline status' });
    a.put('notes', { id: 1, title: 'saved locally' });
    a.put('notes', { id: 2, title: 'saved locally too' });
    await waitFor(() => shown('status').join() === 'offline 2', { what: 'two pending writes' });

    await ca.connect(coord.url, 'db');
    await waitFor(() => shown('status').join() === 'synced 0', { what: 'synced again' });
    const offline = seen.slice(seen.indexOf('offline 0'));
    expect(offline.slice(0, 2)).toEqual(['offline 0', 'offline 2']);
    expect(offline.at(-1)).toBe('synced 0');
  });

  it('useSyncStatus without a sync client says offline with nothing counted', async () => {
    render(h.memoryDb(), undefined, <StatusBar seen={[]} />);
    await waitFor(() => shown('status').join() === 'offline 0', { what: 'the status without a client' });
  });

  it('a hook outside the provider fails with its name', () => {
    expect(() => renderToString(<OneNote id={1} />)).toThrow('useRow must be called inside <SyncordProvider>');
  });
});
