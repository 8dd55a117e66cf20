// Package data decodes images and turns them into model input tensors
// exactly as torchvision's transforms do on PIL images.
//
// # Decoding
//
// Decode and DecodeReader read PNG, JPEG, GIF (first frame), BMP, TIFF and
// WebP, refusing images of more than MaxPixels pixels from their header
// before decoding. PNG, GIF, BMP and TIFF pixels are the ones PIL reads.
// For JPEG, Preprocess finishes decoding as libjpeg-turbo (PIL's decoder)
// does, with its "fancy" chroma upsampling and fixed-point YCbCr→RGB
// tables; only the inverse DCT differs (Go's image/jpeg has its own), which
// leaves RGB samples up to about 3 levels of 255 apart from PIL's.
//
// # Preprocessing
//
// A Preprocess describes a torchvision pipeline of the form
//
//	Image.open(path).convert("RGB" or "L")
//	Resize(...) [, CenterCrop(...)], ToTensor(), Normalize(mean, std)
//
// and Apply reproduces it: the resize is Pillow's own 8-bit bilinear
// resampler (a triangle filter whose support widens by the scale factor when
// shrinking, i.e. antialiased, with 22-bit fixed-point coefficients, a
// horizontal pass rounded to uint8 and then a vertical pass rounded to
// uint8), so for lossless inputs the output is the same tensor torchvision
// gives, not an approximation. Lookup returns registered pipelines by name
// ("imagenet", "imagenet-crop", "mnist", "none"); Register adds more.
//
// Normalize and Invert convert between the normalized scale a model sees and
// the [0, 1] scale of ToTensor, for code that edits images (for instance
// inpainting in 0–255 space) and normalizes again.
//
// # Where results can differ from PIL
//
//   - JPEG: the inverse DCT, as above (tested: at most 3 levels).
//   - 16-bit images: the high byte of each sample is used. PIL does the same
//     for 16-bit RGB(A) PNGs, but opens 16-bit gray as mode "I", whose
//     convert("RGB") clips values to 255 instead.
//   - A GIF whose first frame is smaller than its logical screen: the frame
//     alone is returned, PIL pastes it on a screen-sized background.
//   - Lossy WebP and CMYK JPEG use golang.org/x/image's and Go's own color
//     conversions, not verified against libwebp or PIL.
//   - Like PIL and torchvision, EXIF orientation is ignored, and alpha is
//     dropped without compositing (convert("RGB") semantics).
package data
