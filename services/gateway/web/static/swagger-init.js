// Swagger UI (vendored, static/vendor/swagger-ui) on the merged OpenAPI document of every
// service. A file of its own, since the Content-Security-Policy refuses inline scripts.
(function () {
  "use strict";
  const holder = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: holder.dataset.openapi,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
