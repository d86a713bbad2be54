// Parse Mermaid diagrams with Mermaid's own parser and print what it read, for tests/tools/test_diagram.py.
// stdin: a JSON array of diagram texts. stdout: a JSON array, one entry per diagram: {"error": message} when the
// parser rejects it, else {"type", "vertices": [{id, text}], "edges": [{start, end, text}], "subgraphs":
// [{id, title, nodes}]} as the flowchart database holds them (labels still in Mermaid's entity encoding).
// Mermaid sanitizes labels with DOMPurify, which needs a DOM: jsdom provides one; nothing is rendered.
import { JSDOM } from "jsdom";

const { window } = new JSDOM("");
globalThis.window = window;
globalThis.document = window.document;
const { default: mermaid } = await import("mermaid");

async function read(text) {
  try {
    await mermaid.parse(text);
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    const db = diagram.db;
    return {
      type: diagram.type,
      vertices: [...db.getVertices().values()].map((v) => ({ id: v.id, text: v.text })),
      edges: db.getEdges().map((e) => ({ start: e.start, end: e.end, text: e.text })),
      subgraphs: db.getSubGraphs().map((s) => ({ id: s.id, title: s.title, nodes: s.nodes })),
    };
  } catch (error) {
    return { error: String(error.message ?? error) };
  }
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const texts = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = [];
for (const text of texts) results.push(await read(text));
process.stdout.write(JSON.stringify(results));
