// The JSON shapes of the Open Inference Protocol v2 REST API and KServe's v1 protocol, written as zod schemas
// from the specifications (strict: a field the spec does not define fails the test):
//  - OIP: kserve/open-inference-protocol specification/protocol/inference_rest.md and kserve/kserve
//    docs/predict-api/v2/required_api.md (HTTP/REST: Health, Server Metadata, Model Metadata, Inference,
//    Parameters, Tensor Data, Tensor Data Types, Platforms).
//  - KServe v1: python/kserve/kserve/protocol/rest/v1_endpoints.py and the v1-protocol page of KServe's docs
//    (GET /v1/models → {"models": […]}, GET /v1/models/{m} → {"name", "ready"}, :predict → {"predictions": […]}).
//  - Error bodies: "The HTTP body must contain the $…_error_response object: {"error": $string}".
import { z } from 'zod';

/** "Tensor Data Types" table. */
export const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
const datatype = z.enum(DATATYPES);

/** $parameters = { $parameter, ... }; $parameter = $string : $string | $number | $boolean */
const parameters = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

/** $metadata_tensor = { "name", "datatype", "shape": [$number, ...] }, variable dimensions as -1. */
const metadataTensor = z.strictObject({ name: z.string(), datatype, shape: z.array(z.number().int().min(-1)) });

/** $metadata_server_response */
export const ServerMetadata = z.strictObject({ name: z.string(), version: z.string(), extensions: z.array(z.string()) });

/** $metadata_model_response; platform from "Platforms" (onnx_onnxv1 for ONNX Runtime). */
export const ModelMetadata = z.strictObject({
  name: z.string(),
  versions: z.array(z.string()).optional(),
  platform: z.string().regex(/^[a-z0-9]+_[a-z0-9]+$/),
  inputs: z.array(metadataTensor),
  outputs: z.array(metadataTensor),
});

/** $ready_model_response */
export const ModelReady = z.strictObject({ name: z.string(), ready: z.boolean() });

/** Server live / ready: the status code is the answer; KServe's bodies are {"live": bool} and {"ready": bool}. */
export const ServerLive = z.strictObject({ live: z.boolean() });
export const ServerReady = z.strictObject({ ready: z.boolean() });

/** $tensor_data: row-major, flat or nested; elements integer, float, string or boolean. */
const tensorData: z.ZodType<unknown[]> = z.array(z.union([z.number(), z.string(), z.boolean(), z.null(), z.lazy(() => tensorData)]));

/** $response_output */
export const ResponseOutput = z.strictObject({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  datatype,
  parameters: parameters.optional(),
  data: tensorData,
});

/** $inference_response */
export const InferenceResponse = z.strictObject({
  model_name: z.string(),
  model_version: z.string().optional(),
  id: z.string(),
  parameters: parameters.optional(),
  outputs: z.array(ResponseOutput),
});

/** $inference_request (what the tests send is checked too, so a test cannot send something off-spec by mistake). */
export const InferenceRequest = z.strictObject({
  id: z.string().optional(),
  parameters: parameters.optional(),
  inputs: z.array(z.strictObject({ name: z.string(), shape: z.array(z.number().int().nonnegative()), datatype, parameters: parameters.optional(), data: tensorData })),
  outputs: z.array(z.strictObject({ name: z.string(), parameters: parameters.optional() })).optional(),
});

/** $inference_error_response, $metadata_model_error_response, …: {"error": $string} */
export const ErrorResponse = z.strictObject({ error: z.string().min(1) });

/** KServe v1 */
export const V1Models = z.strictObject({ models: z.array(z.string()) });
export const V1ModelReady = z.strictObject({ name: z.string(), ready: z.boolean() });
export const V1Predictions = z.strictObject({ predictions: z.array(z.unknown()) });
