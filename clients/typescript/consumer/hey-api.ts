// A consumer of the @hey-api/openapi-ts (default settings) client: create a user with the fields
// a consumer naturally sends, read it back, log in. `make ts-check` type-checks it.
import { authenticate, createUser, getUserById } from "../gen/hey-api";
import { client } from "../gen/hey-api/client.gen";

client.setConfig({ baseUrl: "http://127.0.0.1:8080" });
const headers = {
  Authorization: "Bearer <token>",
  "X-SourceSystem": "Web",
  "X-ClientCode": "demo",
  "X-PaperCode": "demo",
  "X-ClientGroupCode": "demo",
};

export async function createGetAuthenticate(): Promise<string | undefined> {
  const created = await createUser({
    headers,
    body: { email: "jane.doe@example.com", password: "correct-horse-battery" },
  });
  if (!created.data) {
    throw new Error(`create refused: ${created.error?.message.code}`);
  }
  const id: string = created.data.data.customerRegistrationId;

  const got = await getUserById({ headers, path: { customerRegistrationId: id } });
  const state: "Standard" | "Lite" | "Unverified" | undefined = got.data?.data.state;
  console.log(id, state);

  const auth = await authenticate({
    headers,
    body: { loginName: "jane.doe@example.com", password: "correct-horse-battery" },
  });
  return auth.data?.data.cookieTokens.find((t) => t.name === "uo_session")?.content;
}
