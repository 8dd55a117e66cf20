package data

// SourceRegion returns the rectangle of a w×h image that Apply maps onto
// its Width×Height output, in the image's pixel coordinates (x right,
// y down; the image spans [0, w]×[0, h], pixel edges at integers): the
// whole image for ResizeExact and None, and for ResizeCrop the part the
// center crop keeps, scaled back from the resized image (it reaches
// beyond the image where the crop pads). Heatmaps computed on the model
// input are drawn over the original picture by resampling them onto this
// rectangle.
func (p Preprocess) SourceRegion(w, h int) (x0, y0, x1, y1 float64) {
	if p.Mode != ResizeCrop || w < 1 || h < 1 {
		return 0, 0, float64(w), float64(h)
	}
	rw, rh := shorterSide(w, h, p.ResizeShorter)
	fx, fy := float64(w)/float64(rw), float64(h)/float64(rh)
	left, top := cropOffset(rw, p.Width), cropOffset(rh, p.Height)
	return float64(left) * fx, float64(top) * fy, float64(left+p.Width) * fx, float64(top+p.Height) * fy
}
