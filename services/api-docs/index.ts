export { API_ROUTES, routeKey, type RouteDoc, type ErrorDoc, type ResponseDoc, type RouteAuth } from "./routes.ts";
export { errorsOf } from "./errors.ts";
export { buildOpenApiDocument, openApiDocument, openApiJson, openApiPath, operationId, type OpenApiDocument } from "./openapi.ts";
export { buildAsyncApiDocument, asyncApiDocument, asyncApiJson, type AsyncApiDocument } from "./asyncapi.ts";
