// Starts the API reference on /docs. A file of its own (not an inline script) so that the page's
// Content-Security-Policy can be `script-src 'self'` with no inline code and no third-party host.
// Everything that would reach out of this origin is off: the default web fonts, telemetry, the
// request proxy; "Try it" requests go straight to this API (connect-src 'self').
/* global Scalar */
Scalar.createApiReference("#app", {
  url: "/openapi.json",
  withDefaultFonts: false,
  telemetry: false,
  showDeveloperTools: "never",
  hideClientButton: false,
  persistAuth: false,
  // The operation list is the page: every tag opened in the sidebar.
  defaultOpenAllTags: true,
  // The hosted AI agent would call Scalar's servers with the document.
  agent: { disabled: true },
  layout: "modern",
  theme: "default",
});
