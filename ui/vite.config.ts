// Vite build for the StreamCue window: a static bundle in ui/dist that Tauri embeds.
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
  },
});
