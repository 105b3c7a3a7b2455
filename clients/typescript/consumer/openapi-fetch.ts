// A consumer of the openapi-typescript (default settings) + openapi-fetch client: create a user
// with the fields a consumer naturally sends, read it back, log in. `make ts-check` type-checks it.
import createClient from "openapi-fetch";
import type { paths } from "../gen/openapi-typescript/schema";

const client = createClient<paths>({ baseUrl: "http://127.0.0.1:8080" });
const header = {
  Authorization: "Bearer <token>",
  "X-SourceSystem": "Web",
  "X-ClientCode": "demo",
  "X-PaperCode": "demo",
  "X-ClientGroupCode": "demo",
};

export async function createGetAuthenticate(): Promise<string | undefined> {
  const created = await client.POST("/v4/Users", {
    params: { header },
    body: { email: "jane.doe@example.com", password: "correct-horse-battery" },
  });
  if (!created.data) {
    const code: string | undefined = created.error?.message.code;
    throw new Error(`create refused: ${code}`);
  }
  const id: string = created.data.data.customerRegistrationId;

  const got = await client.GET("/v4/Users/{customerRegistrationId}", {
    params: { header, path: { customerRegistrationId: id } },
  });
  const state: "Standard" | "Lite" | "Unverified" | undefined = got.data?.data.state;
  console.log(id, state);

  const auth = await client.POST("/v4/Users/Authentication", {
    params: { header },
    body: { loginName: "jane.doe@example.com", password: "correct-horse-battery" },
  });
  return auth.data?.data.cookieTokens.find((t) => t.name === "uo_session")?.content;
}
