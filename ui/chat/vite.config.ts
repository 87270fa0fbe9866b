// Vite build of the chat page: served by the gateway's data-plane listener at /chat/ (src/web,
// GW_CHAT_UI_DIR), beside its API at /chat/api/. `npm run dev` proxies the API to a running
// gateway (GW_URL, default http://127.0.0.1:8000).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  base: '/chat/',
  plugins: [react()],
  // ../shared (sign-in code of both pages) imports its packages from this page's node_modules
  resolve: { dedupe: ['oauth4webapi'] },
  build: {
    target: 'es2022',
    sourcemap: false,
    // no inline <script>/<style>: the gateway's CSP allows files from 'self' only
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 300,
  },
  server: {
    fs: { allow: ['..'] }, // this page and ../shared
    proxy: { '/chat/api': process.env.GW_URL || 'http://127.0.0.1:8000' },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
