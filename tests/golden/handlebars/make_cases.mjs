// Renders every context template's story string with the real Handlebars 4.7.8 (the version
// SillyTavern 1.12.6 bundles, with its `trim` and `helperMissing` hooks) and writes the
// outputs as golden data for tests/prompt/test_handlebars.py.
// Usage: node make_cases.mjs <handlebars module dir> <pytavern context dir> <ST context dir>
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [hbDir, oursDir, stDir] = process.argv.slice(2);
const Handlebars = createRequire(import.meta.url)(hbDir);
Handlebars.registerHelper('trim', () => '{{trim}}');
Handlebars.registerHelper('helperMissing', function () {
    const options = arguments[arguments.length - 1];
    return `{{${options.name}}}`;
});

const full = {
    system: 'Write {{char}}\'s next reply.', description: 'A knight.\nBrave.',
    personality: 'stern', persona: 'A traveller.', scenario: 'A castle gate.',
    char: 'Aria', user: 'Bob', wiBefore: 'Lore before.', wiAfter: 'Lore after.',
    loreBefore: 'Lore before.', loreAfter: 'Lore after.',
    mesExamples: '<START>\nAria: Hail.\n', mesExamplesRaw: '<START>\n{{char}}: Hail.',
    anchorBefore: '', anchorAfter: '',
};
const empty = Object.fromEntries(Object.keys(full).map((k) => [k, '']));
const sets = {
    full,
    empty: { ...empty, char: 'Aria', user: 'Bob' },
    card_only: { ...empty, char: 'Aria', user: 'Bob', description: 'A knight.', scenario: 'Gate.' },
    system_persona: { ...empty, char: 'Aria', user: 'Bob', system: 'Be brief.', persona: 'Bob.' },
};
const synthetic = {
    each_list: '{{#each items}}\n- {{@index}}: {{this}}{{#if @last}} (last){{/if}}\n{{else}}\nnone\n{{/each}}\n',
    each_object: '{{#each obj}}{{@key}}={{this}};{{/each}}\n',
    unless_else: '{{#unless system}}\nno system\n{{else}}\n{{system}}\n{{/unless}}\nend',
    tilde: '  {{~#if char~}}  \n  {{char}}  \n  {{~/if~}}  \n!',
    comments: 'a\n{{! a comment }}\nb\n  {{!-- long {{x}} --}}  \nc {{! inline }} d',
    trim_macro: '{{#if description}}{{description}}\n{{/if}}{{trim}}\n{{#if persona}}\n  {{persona}}\n{{/if}}\n',
    indented_blocks: 'x\n  {{#if scenario}}\n  S: {{scenario}}\n  {{/if}}\n\ty\n',
    triple: '{{{description}}}|{{missing}}|{{random::a::b}}|{{user}}',
    with_block: '{{#with obj}}\n{{a}}-{{../char}}\n{{/with}}',
    section: '{{#items}}[{{this}}]{{/items}}{{^items}}none{{/items}}',
    crlf: '{{#if system}}\r\n{{system}}\r\n{{/if}}\r\ndone',
};
const extras = { items: ['one', 'two'], obj: { a: 1, b: 'x' } };

function templates(dir) {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => {
        const data = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
        return [f.replace(/\.json$/, ''), data.story_string];
    });
}

const cases = [];
const sources = [['pytavern', templates(oursDir)], ['sillytavern', templates(stDir)],
    ['synthetic', Object.entries(synthetic)]];
for (const [source, list] of sources) {
    for (const [name, template] of list) {
        for (const [setName, params] of Object.entries(sets)) {
            const withExtras = source === 'synthetic' ? { ...params, ...extras } : params;
            const render = Handlebars.compile(template, { noEscape: true });
            cases.push({ source, name, params: setName, template, output: render(withExtras) });
        }
    }
}
const out = { handlebars: Handlebars.VERSION, param_sets: sets, extras, cases };
fs.writeFileSync(process.argv[5] ?? '/dev/stdout', JSON.stringify(out, null, 1) + '\n');
