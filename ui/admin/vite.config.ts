// Vite build of the admin console: served by the gateway's admin listener at /admin/
// (src/web), so every URL is below that base. `npm run dev` proxies the API to a running
// gateway (GW_ADMIN_URL, default http://127.0.0.1:8001).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  base: '/admin/',
  plugins: [react()],
  // ../shared (sign-in code of both pages) imports its packages from this page's node_modules
  resolve: { dedupe: ['oauth4webapi'] },
  build: {
    target: 'es2022',
    sourcemap: false,
    // no inline <script>/<style> anywhere: the gateway's CSP allows files from 'self' only
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 300,
  },
  server: {
    fs: { allow: ['..'] }, // this page and ../shared
    proxy: { '/admin/api': process.env.GW_ADMIN_URL || 'http://127.0.0.1:8001' },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
