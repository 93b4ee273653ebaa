// Child process of template-budget.test.ts: renders $KVSHARE_BOMB with the stories260K tokenizer
// and prints {error, ms (CPU), peakGrowthMB, afterwards} as one JSON line.
import { readFile } from 'node:fs/promises';
import { createTokenizer } from '../../src/model/tokenizer/tokenizer.ts';
import { GOOD_TEMPLATE } from './hostile-templates.ts';
import { storiesDir } from './models.ts';

const dir = storiesDir();
const files = {
  tokenizerJson: JSON.parse(await readFile(`${dir}/tokenizer.json`, 'utf8')),
  tokenizerConfig: JSON.parse(await readFile(`${dir}/tokenizer_config.json`, 'utf8')),
};
const chat = [{ role: 'user' as const, content: 'Tell a story.' }];
const good = await createTokenizer({ ...files, chatTemplate: GOOD_TEMPLATE });
const bomb = await createTokenizer({ ...files, chatTemplate: process.env.KVSHARE_BOMB ?? '' });
good.applyChatTemplate(chat); // warm the renderer
const before = process.memoryUsage().rss;
const peakBefore = process.resourceUsage().maxRSS * 1024;
let error = 'none';
// CPU time of this process (user + system), so other jobs on the machine's cores do not count.
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const t0 = cpuMs();
try {
  bomb.applyChatTemplate(chat, { addGenerationPrompt: true });
} catch (e) {
  error = (e as Error).name;
}
const ms = cpuMs() - t0;
const peak = process.resourceUsage().maxRSS * 1024;
const afterwards = good.applyChatTemplate(chat).length > 0;
console.log(
  JSON.stringify({ error, ms, peakGrowthMB: (Math.max(peak, peakBefore) - before) / 2 ** 20, afterwards }),
);
