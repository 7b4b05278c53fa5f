export { API_ROUTES, routeKey, type RouteDoc, type ErrorDoc, type ResponseDoc, type RouteAuth } from "./routes.ts";
export { errorsOf } from "./errors.ts";
export { buildOpenApiDocument, openApiDocument, openApiPath, operationId, type OpenApiDocument } from "./openapi.ts";
export { buildAsyncApiDocument, asyncApiDocument, type AsyncApiDocument } from "./asyncapi.ts";
