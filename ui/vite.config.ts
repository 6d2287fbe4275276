// Vite build for StreamCue's pages: a static bundle in ui/dist. Two entries sharing chunks:
// index.html, the window Tauri embeds, and overlay.html, the OBS overlay the core's local
// server serves at /overlay. `base: "./"` gives relative asset URLs ("./assets/x.js"), which
// the window needs and which resolve to /assets/x.js from /overlay too.
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    rolldownOptions: {
      // Relative to the project root (ui/).
      input: { index: "index.html", overlay: "overlay.html" },
    },
  },
});
