// Package weights reads the weights of PyTorch models without Python: a
// state_dict saved with torch.save (the zip format of torch ≥ 1.6 and the
// legacy format before it) or a .safetensors file. Load and Read return the
// tensors by name, converted to float32, in row-major order.
//
//	sd, err := weights.Load("vgg16-397923af.pth")
//	w := sd["features.0.weight"] // *tensor.T of shape [64 3 3 3]
//
// The format is chosen by content, not by file name: a zip archive
// ("PK\x03\x04") is torch.save's zip format, an 8-byte length followed by
// '{' is safetensors, and a pickle (0x80) is torch.save's legacy format.
//
// # PyTorch zip format
//
// torch.save(obj, f) writes a zip archive of uncompressed entries under one
// folder (<archive>/, named after the file): data.pkl, the object pickled
// with protocol 2, data/<key> for each storage, and version (and byteorder,
// .data/serialization_id in newer releases). Each tensor in the pickle is
// a call of torch._utils._rebuild_tensor_v2(storage, storage_offset, size,
// stride, requires_grad, backward_hooks) whose storage is a persistent id
// ('storage', torch.FloatStorage, key, location, numel) naming data/<key>.
//
// # Legacy format
//
// torch < 1.6, or torch.save(..., _use_new_zipfile_serialization=False),
// writes five pickles one after another (the magic number
// 0x1950a86a20f9469cfc6c, the protocol version 1001, sys_info, the object,
// the sorted storage keys), then every storage as a little-endian int64
// element count and its little-endian bytes. Its persistent ids have a sixth
// element, a storage view, which must be None (the storage views that only
// very old files use are refused), and big-endian files are refused. The still older tar
// format (torch < 0.1.10) is refused.
//
// # The restricted unpickler
//
// Pickles are run by a small unpickler written for this package that never
// executes anything. It knows the opcodes that torch.save emits with
// protocols 2 to 5 for state_dicts and checkpoints (PROTO, FRAME, STOP,
// MARK, POP, POP_MARK, NONE, NEWTRUE, NEWFALSE, BININT, BININT1, BININT2,
// LONG1, LONG4, BINFLOAT, BINUNICODE, SHORT_BINUNICODE, BINUNICODE8,
// BINSTRING, SHORT_BINSTRING, BINBYTES, SHORT_BINBYTES, BINBYTES8,
// EMPTY_TUPLE, TUPLE, TUPLE1-3, EMPTY_LIST, APPEND, APPENDS, EMPTY_DICT,
// SETITEM, SETITEMS, BINPUT, LONG_BINPUT, MEMOIZE, BINGET, LONG_BINGET,
// GLOBAL, STACK_GLOBAL, REDUCE, BUILD, BINPERSID) and refuses every other
// (INST, OBJ, NEWOBJ, EXT*, sets, the text protocol-0 opcodes, ...).
//
// GLOBAL and STACK_GLOBAL may only name one of these; any other name, such
// as builtins.eval, os.system or a class of a pickled nn.Module, is an
// error that names it and wraps ErrForbiddenGlobal:
//
//	collections.OrderedDict                      called with () or a list of pairs
//	torch._utils._rebuild_tensor                 (torch < 0.4)
//	torch._utils._rebuild_tensor_v2              6 or 7 arguments (torch 2 adds metadata)
//	torch._utils._rebuild_parameter              nn.Parameter values: the tensor
//	torch._utils._rebuild_parameter_with_state   likewise (torch 2)
//	torch._tensor._rebuild_from_type_v2          only with the two names below
//	torch.Tensor, torch.nn.parameter.Parameter   only as its type argument
//	torch.{Float,Double,Half,BFloat16,Long,Int,Short,Char,Byte,Bool}Storage
//	torch.cuda.*Storage (same list)              only inside a storage persistent id
//
// These are the legacy typed-storage names that torch.save writes for every
// TypedStorage in torch 1.13 and 2.x (TypedStorage.pickle_storage_type);
// torch.cuda.* ones come from checkpoints saved on a GPU and are read like
// the CPU ones. The allowed callables are implemented in Go: they build a
// description of a strided view, and BUILD may only set a dict's attributes
// (the _metadata of a state_dict, which is dropped).
//
// # What is returned
//
// The top-level object must be a dict of tensors (a state_dict, an
// OrderedDict or a dict of nn.Parameter), or a dict that holds one under
// "state_dict", "model_state_dict", "model", "module" or "net" (a training
// checkpoint; its other entries, such as optimizer state, are unpickled but
// not converted). Names are returned as stored: a "module." prefix left by
// DataParallel is not removed.
//
// Tensors may be views: a storage offset, sizes and strides (non-contiguous
// views such as a transposed weight, slices sharing a storage, stride-0
// expansions) are materialised in row-major order. Element types are
// converted to float32: float16 and bfloat16 exactly, float64 rounded to
// nearest, integers and bool (1 or 0) to the nearest float32, so int64
// values such as BatchNorm's num_batches_tracked are exact up to 2^24.
// safetensors may also hold U16, U32 and U64; complex, quantised and 8-bit
// float types are refused.
//
// # Safetensors
//
// An 8-byte little-endian header length N (at most 100 MB), a JSON object of
// N bytes mapping each name to {"dtype", "shape", "data_offsets"} (and an
// optional "__metadata__" object of strings), then the data. Offsets are
// relative to the end of the header; as in the reference implementation the
// tensors must tile the data section exactly (no gaps, no overlaps, no
// trailing bytes), and each tensor's byte span must equal its element
// count times its element size. Duplicate names are refused.
//
// # Hostile input
//
// Read and Load return errors, never panic, on truncated or corrupt input
// (zip CRCs are checked), and check every length against what the input
// can hold before allocating: a pickle string cannot be longer than the
// bytes left (nor 64 MiB), a pickle than 256 MiB, a storage than its zip
// entry or the file; shapes are checked for negative sizes and overflow
// (at most 2^40 elements); views must stay inside their storage. Since
// views can repeat a storage's elements (stride 0, tied weights), the
// float32 output is capped at four elements per input byte plus 4 Mi
// elements, and zip entries may not share bytes to make the file's bytes be
// read more than once. Compressed zip entries, which torch.save never
// writes, count against the output cap.
package weights
