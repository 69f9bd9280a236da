// Talks to a running rag serve through the openai npm client and prints what the client saw, as one JSON object.
// Usage: RAG_URL=http://127.0.0.1:PORT/ RAG_KEY=KEY node check.mjs
import OpenAI from "openai";

const baseURL = new URL("v1", process.env.RAG_URL).toString();
const client = new OpenAI({ baseURL, apiKey: process.env.RAG_KEY, maxRetries: 0 });
const question = [{ role: "user", content: "What hydration should a beginner use for sourdough dough?" }];

// What the client reports for a failing call: the fields an application would show or branch on.
async function failure(call) {
  try {
    await call();
    return { failed: false };
  } catch (e) {
    return { failed: true, name: e.constructor.name, status: e.status ?? null, message: e.message, type: e.type ?? null, code: e.code ?? null, param: e.param ?? null };
  }
}

const models = await client.models.list();
const ids = models.data.map((m) => m.id);
const retrieved = await client.models.retrieve(ids[0]);

const completion = await client.chat.completions.create({ model: ids[0], messages: question, max_tokens: 8, temperature: 0 });

let streamed = "";
let chunks = 0;
const stream = await client.chat.completions.create({ model: ids[0], messages: question, max_tokens: 8, temperature: 0, stream: true });
for await (const chunk of stream) {
  chunks++;
  streamed += chunk.choices[0]?.delta?.content ?? "";
}

const result = {
  models: ids,
  retrieved: { id: retrieved.id, object: retrieved.object, owned_by: retrieved.owned_by },
  completion: { content: completion.choices[0].message.content, citations: completion.citations?.length ?? 0, model: completion.model },
  stream: { text: streamed, chunks },
  badRequest: await failure(() => client.chat.completions.create({ model: ids[0], messages: question, max_tokens: 100000 })),
  unknownModelChat: await failure(() => client.chat.completions.create({ model: "no-such-model", messages: question })),
  unknownModel: await failure(() => client.models.retrieve("no-such-model")),
  unauthorized: await failure(() => new OpenAI({ baseURL, apiKey: "not-a-key", maxRetries: 0 }).models.list()),
};
console.log(JSON.stringify(result));
