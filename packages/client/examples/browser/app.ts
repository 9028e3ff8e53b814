// A todo list kept in the browser (IndexedDB) and synced through a coordinator. Open the page in
// two tabs: a todo added in one shows in the other at once, online or offline, and a reload keeps
// everything, writes not yet sent included.
import { openBrowserDatabase, SyncClient } from '@syncord/client/browser';

const url = new URLSearchParams(location.search).get('sync') ?? 'ws://127.0.0.1:3000/sync/ws';
const { database, slot } = await openBrowserDatabase('todos');
const todos = database.declareTable('todos', { columns: { id: 'text', title: 'text' }, primaryKey: ['id'] });

const sync = new SyncClient(database);
const status = document.querySelector('#status')!;
sync.on('status', (s) => (status.textContent = `tab slot ${slot}: ${s.state}`));
void sync.connect(url, 'demo:todos');

const list = document.querySelector('#todos')!;
todos.watch({ orderBy: 'title' }, (rows) => {
  list.replaceChildren(...rows.map((row) => Object.assign(document.createElement('li'), { textContent: row.title })));
});

const form = document.querySelector('form')!;
form.addEventListener('submit', (event) => {
  event.preventDefault();
  const input = form.elements.namedItem('title') as HTMLInputElement;
  if (input.value) todos.put({ id: crypto.randomUUID(), title: input.value });
  input.value = '';
});
