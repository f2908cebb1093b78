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
  layout: "modern",
  theme: "default",
});
