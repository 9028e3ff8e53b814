// The todo list: add (Enter in the input), toggle done, edit (double-click the title, Enter saves,
// Escape cancels), delete; and a header showing the sync state and the writes not yet synced.
import type { SyncStatus } from '@syncord/client';
import { useState, type KeyboardEvent } from 'react';
import type { RowOf } from '@syncord/client';
import type { TodosTable } from './schema.js';
import { useQuery, useSyncStatus, type TodoApp } from './sync.js';

type Todo = RowOf<TodosTable['definition']>;

export function App({ app }: { app: TodoApp }) {
  const { todos } = app;
  const items = useQuery(todos, { orderBy: ['createdAt', 'id'] });
  const open = items.filter((t) => !t.done).length;
  return (
    <main>
      <header>
        <h1>Todos</h1>
        <SyncBar app={app} />
      </header>
      <NewTodo onAdd={(title) => todos.put({ id: crypto.randomUUID(), title, done: false, createdAt: Date.now() })} />
      <ul className="todos">
        {items.map((todo) => (
          <TodoItem key={todo.id} todo={todo} table={todos} />
        ))}
      </ul>
      <footer>
        {open} open, {items.length - open} done
      </footer>
    </main>
  );
}

function describeStatus(status: SyncStatus, pendingWrites: number): string {
  const local = pendingWrites === 1 ? '1 change saved locally' : `${pendingWrites} changes saved locally`;
  switch (status.state) {
    case 'synced':
      return 'Synced';
    case 'syncing':
      return pendingWrites > 0 ? `Syncing: ${local}` : 'Syncing';
    case 'connecting':
      return 'Connecting';
    case 'bootstrapping': {
      const { rowsReceived, rowsTotal } = status.progress;
      return rowsTotal === undefined
        ? `Loading: ${rowsReceived} rows`
        : `Loading: ${rowsReceived} of ${rowsTotal} rows`;
    }
    case 'offline':
      return pendingWrites > 0 ? `Offline: ${local}` : 'Offline';
    case 'error':
      return `Stopped: ${status.error.message}`;
  }
}

function SyncBar({ app }: { app: TodoApp }) {
  const { status, pendingWrites } = useSyncStatus();
  // What the user asked for, not the connection's state: offline by choice stays offline.
  const [online, setOnline] = useState(true);
  const toggle = (): void => {
    app.setOnline(!online);
    setOnline(!online);
  };
  return (
    <div className="sync">
      <span
        data-testid="sync-status"
        data-state={status.state}
        data-pending={pendingWrites}
        className={`status status-${status.state}`}
      >
        {describeStatus(status, pendingWrites)}
      </span>
      <button type="button" data-testid="sync-toggle" aria-pressed={!online} onClick={toggle}>
        {online ? 'Go offline' : 'Go online'}
      </button>
    </div>
  );
}

function NewTodo({ onAdd }: { onAdd: (title: string) => void }) {
  const [title, setTitle] = useState('');
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>): void => {
    if (event.key !== 'Enter' || title.trim() === '') return;
    onAdd(title.trim());
    setTitle('');
  };
  return (
    <input
      data-testid="new-todo"
      className="new-todo"
      placeholder="What needs doing? (Enter adds)"
      value={title}
      onChange={(event) => setTitle(event.target.value)}
      onKeyDown={onKeyDown}
      autoFocus
    />
  );
}

function TodoItem({ todo, table }: { todo: Todo; table: TodosTable }) {
  const [draft, setDraft] = useState<string | undefined>(undefined);
  const done = Boolean(todo.done);
  const save = (): void => {
    if (draft !== undefined && draft.trim() !== '' && draft.trim() !== todo.title) {
      table.put({ id: todo.id, title: draft.trim() });
    }
    setDraft(undefined);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>): void => {
    if (event.key === 'Enter') save();
    if (event.key === 'Escape') setDraft(undefined);
  };
  return (
    <li data-testid="todo-item" data-done={done} className={done ? 'done' : undefined}>
      <input
        type="checkbox"
        data-testid="todo-toggle"
        aria-label={`done: ${todo.title ?? ''}`}
        checked={done}
        onChange={() => table.put({ id: todo.id, done: !done })}
      />
      {draft === undefined ? (
        <span data-testid="todo-title" className="title" onDoubleClick={() => setDraft(todo.title ?? '')}>
          {todo.title}
        </span>
      ) : (
        <input
          data-testid="todo-edit"
          className="edit"
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={onKeyDown}
          onBlur={save}
          autoFocus
        />
      )}
      <button
        type="button"
        data-testid="todo-delete"
        aria-label={`delete: ${todo.title ?? ''}`}
        onClick={() => table.delete(todo.id)}
      >
        ×
      </button>
    </li>
  );
}
