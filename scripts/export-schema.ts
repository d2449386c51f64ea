/** `npm run schema`: regenerate forklift.config.schema.json and README.md's config reference. */
import { readFileSync, writeFileSync } from 'node:fs';
import { schemaFileContent, withReference } from './configReference';

writeFileSync('forklift.config.schema.json', schemaFileContent());
writeFileSync('README.md', withReference(readFileSync('README.md', 'utf8')));
console.log('wrote forklift.config.schema.json and README.md (config reference)');
