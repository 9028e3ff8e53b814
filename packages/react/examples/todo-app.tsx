// A todo list on @syncord/react: what is on screen follows every local and synced write, and a
// status line tells "saved locally" from "synced".
import { useState, type FormEvent } from 'react';
import { LocalDatabase, SyncClient, type Table } from '@syncord/client';
import { SyncordProvider, useQuery, useRow, useSyncStatus } from '@syncord/react';

const TODOS = { columns: { id: 'text', title: 'text', done: 'integer' }, primaryKey: ['id'] } as const;
type Todos = Table<typeof TODOS>;

export function openTodos(url: string) {
  const database = LocalDatabase.open(); // in memory; see @syncord/client for persistent storage
  const todos = database.declareTable('todos', TODOS);
  const sync = new SyncClient(database);
  // Resolves on the first handshake and keeps retrying while offline; writes stay local meanwhile.
  sync.connect(url, 'demo:todos').catch((error: unknown) => console.error('sync stopped', error));
  return { database, todos, sync };
}

export function App({ database, sync, todos }: ReturnType<typeof openTodos>) {
  return (
    <SyncordProvider database={database} sync={sync}>
      <SyncLine />
      <TodoList todos={todos} />
    </SyncordProvider>
  );
}

function SyncLine() {
  const { status, pendingWrites } = useSyncStatus();
  const progress =
    status.state === 'bootstrapping' ? ` ${status.progress.rowsReceived}/${status.progress.rowsTotal ?? '?'} rows` : '';
  const saved = pendingWrites === 0 ? 'everything synced' : `${pendingWrites} saved locally`;
  return <p data-testid="sync-status">{`${status.state}${progress} · ${saved}`}</p>;
}

function TodoList({ todos }: { todos: Todos }) {
  const open = useQuery(todos, { where: { done: 0 }, orderBy: 'title' });
  const [title, setTitle] = useState('');
  const add = (event: FormEvent) => {
    event.preventDefault();
    todos.put({ id: crypto.randomUUID(), title, done: 0 });
    setTitle('');
  };
  return (
    <form onSubmit={add}>
      <input data-testid="new-todo" value={title} onChange={(e) => setTitle(e.target.value)} />
      <ul>
        {open.map((todo) => (
          <TodoItem key={todo.id} todos={todos} id={todo.id} />
        ))}
      </ul>
    </form>
  );
}

function TodoItem({ todos, id }: { todos: Todos; id: string }) {
  const todo = useRow(todos, id); // re-renders for this row only
  if (!todo) return null;
  return (
    <li data-testid="todo-item">
      <input
        type="checkbox"
        checked={todo.done === 1}
        onChange={() => todos.put({ id, done: todo.done === 1 ? 0 : 1 })}
      />
      {todo.title}
      <button type="button" onClick={() => todos.delete(id)}>
        delete
      </button>
    </li>
  );
}
