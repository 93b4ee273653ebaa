/**
 * The component's shadow-DOM stylesheet. Pages restyle it with CSS custom properties set on the
 * element (or any ancestor) and with `::part()`:
 *
 * | property                 | default                     |
 * | ------------------------ | --------------------------- |
 * | `--kvshare-accent`       | #2563eb (buttons, user messages) |
 * | `--kvshare-accent-fg`    | #fff (text on the accent)   |
 * | `--kvshare-bg`           | #fff                        |
 * | `--kvshare-fg`           | #1f2328                     |
 * | `--kvshare-muted`        | #6b7280 (status line)       |
 * | `--kvshare-border`       | #d0d7de                     |
 * | `--kvshare-bubble-bg`    | #f3f4f6 (assistant messages)|
 * | `--kvshare-font`         | system-ui, sans-serif       |
 * | `--kvshare-radius`       | 10px                        |
 * | `--kvshare-height`       | 360px (the message list)    |
 *
 * Parts: container, messages, message (plus user / assistant), input, send, stop, status, error.
 */
export const KVSHARE_CHAT_CSS = `
:host {
  display: block;
  font-family: var(--kvshare-font, system-ui, -apple-system, 'Segoe UI', sans-serif);
  color: var(--kvshare-fg, #1f2328);
  font-size: 14px;
  line-height: 1.45;
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.container {
  display: flex;
  flex-direction: column;
  gap: 8px;
  padding: 10px;
  background: var(--kvshare-bg, #fff);
  border: 1px solid var(--kvshare-border, #d0d7de);
  border-radius: var(--kvshare-radius, 10px);
}
.messages {
  list-style: none;
  margin: 0;
  padding: 4px;
  height: var(--kvshare-height, 360px);
  overflow-y: auto;
  display: flex;
  flex-direction: column;
  gap: 6px;
}
.message {
  max-width: 85%;
  padding: 6px 10px;
  border-radius: var(--kvshare-radius, 10px);
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}
.message[data-role='user'] {
  align-self: flex-end;
  background: var(--kvshare-accent, #2563eb);
  color: var(--kvshare-accent-fg, #fff);
}
.message[data-role='assistant'] {
  align-self: flex-start;
  background: var(--kvshare-bubble-bg, #f3f4f6);
}
.message[data-pending]::after { content: '▍'; opacity: 0.6; }
.error {
  padding: 8px 10px;
  border-radius: var(--kvshare-radius, 10px);
  background: #fef2f2;
  color: #991b1b;
  border: 1px solid #fecaca;
}
.composer { display: flex; gap: 6px; }
.input {
  flex: 1;
  min-width: 0;
  padding: 7px 10px;
  font: inherit;
  color: inherit;
  background: transparent;
  border: 1px solid var(--kvshare-border, #d0d7de);
  border-radius: var(--kvshare-radius, 10px);
}
.input:focus { outline: 2px solid var(--kvshare-accent, #2563eb); outline-offset: -1px; }
button {
  padding: 7px 14px;
  font: inherit;
  cursor: pointer;
  border: 1px solid var(--kvshare-accent, #2563eb);
  border-radius: var(--kvshare-radius, 10px);
  background: var(--kvshare-accent, #2563eb);
  color: var(--kvshare-accent-fg, #fff);
}
button[disabled] { opacity: 0.5; cursor: default; }
button.stop { background: transparent; color: var(--kvshare-accent, #2563eb); }
button[hidden] { display: none; }
.status {
  min-height: 1.2em;
  font-size: 12px;
  color: var(--kvshare-muted, #6b7280);
}
`;
