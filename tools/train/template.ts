// The chat template of the shipped model (tokenizer.chat_template). The model was trained on plain
// prose (the Brown corpus) without special tokens or BOS, so the turns are plain text it can
// continue: "User: ...", "Assistant: ...", a system message as an opening paragraph.
export const CHAT_TEMPLATE =
  "{% for message in messages %}" +
  "{% if message['role'] == 'system' %}{{ message['content'] | trim }}{{ '\\n\\n' }}" +
  "{% elif message['role'] == 'user' %}{{ 'User: ' + (message['content'] | trim) + '\\n' }}" +
  "{% else %}{{ 'Assistant: ' + (message['content'] | trim) + '\\n' }}{% endif %}" +
  "{% endfor %}" +
  "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";
