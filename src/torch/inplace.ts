/**
 * In-place updates of parameters, buffers and optimizer state. Each is one native call under a no-grad guard
 * (design.md §2 lesson 9), so an update is never recorded in an autograd graph and never allocates a new tensor.
 * The trailing underscore marks mutation, as in PyTorch.
 */
import { native } from "./native.js";
import type { Tensor, TensorLike } from "./tensor.js";

const h = (x: TensorLike) => (typeof x === "number" || typeof x === "boolean" ? x : x.handle);

/** dst ← src (broadcast, converted to dst's dtype and device). */
export function copy_(dst: Tensor, src: Tensor): void {
  native.copyInPlace_(dst.handle, src.handle);
}

/** dst ← dst + alpha·src. */
export function add_(dst: Tensor, src: TensorLike, alpha = 1): void {
  native.addInPlace_(dst.handle, h(src), alpha);
}

/** dst ← dst·src. */
export function mul_(dst: Tensor, src: TensorLike): void {
  native.mulInPlace_(dst.handle, h(src));
}

/** dst ← value everywhere. */
export function fill_(dst: Tensor, value: number | boolean): void {
  native.fillInPlace_(dst.handle, value);
}
