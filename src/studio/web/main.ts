/** Boots the studio page: the token, the dataset's info and images, the buttons and the keys. */
import { Api, takeToken } from "./api.js";
import { App } from "./app.js";
import { handleKey } from "./keys.js";
import type { Mode } from "./viewer.js";

function on(id: string, action: () => void): void {
  document.getElementById(id)!.addEventListener("click", action);
}

function wireButtons(app: App): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>(".tools button[data-mode]"))
    b.addEventListener("click", () => app.setMode(b.dataset["mode"] as Mode));
  on("fit", () => app.viewer.fit());
  on("undo", () => app.undo());
  on("redo", () => app.redo());
  on("delete", () => app.deleteSelected());
  on("save", () => void app.save());
  on("predict", () => void app.predict());
  on("accept", () => app.acceptSelected());
  on("accept-all", () => app.acceptAll());
  on("reload", () => void app.reloadList());
  for (const layer of ["labels", "region", "predictions"] as const) {
    const box = document.getElementById(`layer-${layer}`) as HTMLInputElement;
    box.addEventListener("change", () => {
      app.viewer.layers[layer] = box.checked;
      app.refresh();
    });
  }
}

async function boot(): Promise<void> {
  const api = new Api(takeToken());
  const app = new App(await api.info(), api);
  wireButtons(app);
  addEventListener("keydown", (e) => {
    if (handleKey(app, e)) {
      e.preventDefault();
      (document.activeElement as HTMLElement | null)?.blur?.();
    }
  });
  addEventListener("focus", () => void app.reloadList());
  addEventListener("beforeunload", (e) => {
    if (app.editor?.dirty) e.preventDefault();
  });
  const started = performance.now();
  app.browse.setImages(await api.images());
  const listed = performance.now() - started;
  if (app.info.notes.length > 0) app.status(app.info.notes.join(" · "));
  const first = app.browse.neighbour(0);
  if (first) await app.open(first);
  // for the tests and for measuring: the app, and how long the list took
  Object.assign(window, { studio: { app, listedMs: listed, ready: true } });
}

boot().catch((e: Error) => {
  const s = document.getElementById("status")!;
  s.textContent = `the studio could not start: ${e.message}`;
  s.classList.add("error");
  Object.assign(window, { studio: { error: e.message, ready: true } });
});
