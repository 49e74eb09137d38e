// Renders every $$ … $$ block of a Markdown document (read from stdin) with KaTeX in display mode and
// throwOnError, as Obsidian, Jupyter and GitHub would; prints the count, exits 1 naming the first failing block.
const katex = require("katex");
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const blocks = [...input.matchAll(/\$\$\n([\s\S]*?)\n\$\$/g)].map((m) => m[1]);
  blocks.forEach((b, i) => {
    try {
      katex.renderToString(b, { displayMode: true, throwOnError: true, strict: "error" });
    } catch (e) {
      console.error(`block ${i + 1} does not render: ${e.message}\n${b}`);
      process.exit(1);
    }
  });
  console.log(`${blocks.length} blocks rendered`);
});
