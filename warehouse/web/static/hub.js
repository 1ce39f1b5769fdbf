// The dashboard's script: GOV.UK Frontend's components (menus, tabs, error summaries).
// Every page works without it; it only adds what the Design System's JavaScript adds.
import { initAll } from "/static/govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
