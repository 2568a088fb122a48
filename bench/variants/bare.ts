/** The floor of the cold-start figure: a handler that imports nothing and answers at once. */
export const handler = async () => ({ statusCode: 200, body: "{}" });
