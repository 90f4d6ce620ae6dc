// ESLint for the browser scripts in app/static/js: `make lint` runs it, `npm ci` installs it.
import js from "@eslint/js";
import globals from "globals";

export default [
  // Vendored files (app/static/js/VENDORED.md) stay as published. The Jitsi stand-in of the
  // browser tests mimics a third-party script and is not served by the app.
  { ignores: ["app/static/js/htmx.min.js", "tests/e2e/stand_in/"] },
  js.configs.recommended,
  {
    files: ["app/static/js/**/*.js"],
    languageOptions: {
      // Loaded as classic <script defer> tags, not as modules.
      sourceType: "script",
      globals: {
        ...globals.browser,
        // htmx.min.js, loaded by base.html before every page script.
        htmx: "readonly",
        // Jitsi's external_api.js, loaded from the Jitsi server by jitsi-embed.js.
        JitsiMeetExternalAPI: "readonly",
      },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // `catch (err) { fallback }` is the house form: naming the error costs nothing, and the
      // optional catch binding would raise the browser baseline (ES2019) for no gain.
      "no-unused-vars": ["error", { caughtErrors: "none" }],
      // Classic scripts share the page's global scope: each file keeps its names inside its IIFE.
      "no-implicit-globals": "error",
      eqeqeq: "error",
    },
  },
  {
    // This file runs under Node.
    files: ["eslint.config.js"],
    languageOptions: { globals: { ...globals.node } },
  },
];
