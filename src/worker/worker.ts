// The engine's Web Worker: an in-thread engine on the worker's navigator.gpu, served over Comlink.
import { createInThreadEngine } from '../browser/engine.ts';
import { exposeEngine } from './host.ts';

exposeEngine(createInThreadEngine());
