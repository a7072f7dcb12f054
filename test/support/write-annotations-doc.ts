// Regenerates docs/annotations.md from the annotation table: node test/support/write-annotations-doc.ts
import { writeFileSync } from "node:fs";
import { ANNOTATIONS_DOC_PATH, renderAnnotationsDoc } from "../../src/model/annotations-doc.ts";

const target = new URL(`../../${ANNOTATIONS_DOC_PATH}`, import.meta.url);
writeFileSync(target, renderAnnotationsDoc());
console.log(`wrote ${ANNOTATIONS_DOC_PATH}`);
