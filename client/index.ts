/**
 * paperboat's typed client: `import { createClient } from "paperboat"`.
 * Types come from the API's own zod schemas; errors are {@link ApiError} with the contract's code.
 */
export {
  type ActionRequest,
  type BlendRequest,
  type Button,
  type Client,
  type ClientOptions,
  createClient,
  type DescribeRequest,
  findButton,
  type Health,
  type ImagineRequest,
  isFinished,
  type ListTasksQuery,
  type ModalRequest,
  type RequestOptions,
  type Seed,
  type ShortenRequest,
  type SubmitOptions,
  type Task,
  type TaskPage,
  type TaskStatus,
  type TaskWithChildren,
  type VideoRequest,
  type WaitOptions,
} from "./client.ts";
export {
  ApiError,
  ButtonNotFoundError,
  ConnectionError,
  type ErrorCode,
  type ErrorDetail,
  PaperboatError,
  UnexpectedResponseError,
  WaitTimeoutError,
} from "./errors.ts";
