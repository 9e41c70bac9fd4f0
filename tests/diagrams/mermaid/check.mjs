// Parse each Mermaid file named on the command line with Mermaid's own parser.
// Prints "ok <file> <diagram type>" or "FAIL <file>: <error>" per file;
// exits 1 when any file fails. Mermaid needs a DOM: jsdom provides one.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

let failed = 0;
for (const path of process.argv.slice(2)) {
  try {
    const result = await mermaid.parse(readFileSync(path, "utf8"));
    console.log(`ok ${path} ${result.diagramType}`);
  } catch (error) {
    failed += 1;
    const text = String(error?.message ?? error).split("\n").slice(0, 4).join(" | ");
    console.log(`FAIL ${path}: ${text}`);
  }
}
process.exit(failed ? 1 : 0);
