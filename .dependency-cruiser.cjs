/**
 * sladet's import rules (design.md §3), checked by test/architecture.test.ts and by hand with
 * `npx depcruise --config .dependency-cruiser.cjs dist/src` (after `npx tsc`).
 *
 * Layers, lowest first; a module may import its own layer and the layers below it, never one above:
 *
 *   util → torch → {data, model, io} → {train, eval, infer, export} → report → runs → {cli, demo, api, index.ts}
 *
 * (native/, the C++ addon, sits below torch; src/torch/native.ts is its only door.) `util` is the shared bottom
 * (errors, atomic files, run-folder naming). `report` reads run folders only, so it sits below `runs`, the commands
 * that write a run folder and its report (a training run's report step, validate/test, detect, export). Within a
 * layer, imports go either way as long as no two folders import each other (no folder cycle).
 *
 * What is checked: the compiled JavaScript under dist/src, that is the imports Node really loads (static and dynamic
 * `import()` alike). dependency-cruiser reads TypeScript through the `typescript` package's compiler API, which
 * TypeScript 7 (this project's compiler, a native binary) no longer ships; tsc's own output is the faithful input.
 *
 * Type-only imports (`import type`, erased by tsc under `verbatimModuleSyntax`) are therefore allowed across layers.
 * Why that is sound: they load nothing and create no initialisation order, so they cannot pull an upper layer into a
 * lower one at run time; they let a lower layer name the shape of a value an upper layer hands it (eval/validate.ts
 * takes train's ComputeLoss to report validation losses; the model's attribute head is typed by data/schema). The
 * layering is about what runs, which is what the issue asks to enforce ("no runtime import upward").
 */

/** Layers, lowest first; each holds top-level folders of src/ (files directly in src/ count as "index"). */
const LAYERS = [
  ["util"],
  ["torch"],
  ["data", "model", "io"],
  ["train", "eval", "infer", "export"],
  ["report"],
  ["runs"],
  ["cli", "demo", "api", "studio", "index"],
];

/** A path pattern matching the compiled modules of the given top-level folders of src/. */
function folders(names) {
  const parts = names.map((n) => (n === "index" ? "[^/]+\\.js$" : `${n}/`));
  return `^dist/src/(${parts.join("|")})`;
}

/** One rule per layer: nothing in it imports any layer above it. */
const upwardRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `no-upward-import-from-${layer.join("-")}`,
  comment: `${layer.join(", ")} must not import ${LAYERS.slice(i + 1)
    .flat()
    .join(", ")} (layers above it; design.md §3)`,
  severity: "error",
  from: { path: folders(layer) },
  to: { path: folders(LAYERS.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    ...upwardRules,
    {
      name: "no-folder-cycle",
      comment: "two folders of src/ import each other (directly or through others): one of the arrows must go",
      severity: "error",
      scope: "folder",
      from: { path: "^dist/src/" },
      to: { circular: true },
    },
    {
      name: "native-only-through-torch",
      comment: "the native addon's raw functions (src/torch/native.ts) are for src/torch only: use its public API",
      severity: "error",
      from: { path: "^dist/src/", pathNot: "^dist/src/torch/" },
      to: { path: "^dist/src/torch/native\\.js$" },
    },
    {
      name: "not-to-unresolvable",
      comment: "an import that resolves to no file",
      severity: "error",
      from: { path: "^dist/src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.d\\.ts$|\\.map$" },
    includeOnly: "^dist/src/",
    moduleSystems: ["es6"],
  },
};
