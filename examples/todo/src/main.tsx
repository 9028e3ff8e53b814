import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { openTodoApp, SyncordProvider } from './sync.js';
import './styles.css';

// The service worker keeps the app shell, so the page still opens while the server is down.
// Only in a build: the dev server's modules are not a shell worth caching.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').catch((error: unknown) => console.warn('service worker:', error));
}

const app = await openTodoApp();
createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <SyncordProvider database={app.db} sync={app.sync}>
      <App app={app} />
    </SyncordProvider>
  </StrictMode>,
);
