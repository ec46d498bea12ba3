// The fetch every generated function calls (orval's `mutator`): the base URL and the bearer
// token come from the environment, the answer comes back as `{data, status, headers}`.
const baseUrl = process.env.LENZ_BASE_URL ?? "http://127.0.0.1:4010";
const token = process.env.LENZ_TOKEN ?? "lenz-mock-token";

export const lenzFetch = async <T>(url: string, options: RequestInit): Promise<T> => {
  const headers = new Headers(options.headers);
  headers.set("Authorization", `Bearer ${token}`);
  const response = await fetch(`${baseUrl}${url}`, { ...options, headers });
  const text = [204, 205, 304].includes(response.status) ? "" : await response.text();
  const data: unknown = text ? JSON.parse(text) : {};
  return { data, status: response.status, headers: response.headers } as T;
};
