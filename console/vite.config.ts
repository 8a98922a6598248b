import { defineConfig } from 'vite';

// Served by the API under /console; every asset is a file of its own (no inline script or
// style) so the page runs under a policy that forbids inline code.
export default defineConfig({
  base: '/console/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
