/** @kiln/vision/models — torchvision-compatible model factories. */
export {};
