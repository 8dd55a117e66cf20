// Package eval measures how faithful an attribution is by pixel flipping,
// also called region perturbation (Samek et al., "Evaluating the
// visualization of what a deep neural network has learned", IEEE TNNLS
// 2017), as the thesis "In-Depth Hyperparameter Selection For Layer-Wise
// Relevance Propagation" (TU Berlin, 2022) and its code define it.
//
// # Algorithm
//
// For an N×C×H×W input with H = W divisible by the patch size p, the
// relevance is reduced to one channel (0.2989·R + 0.587·G + 0.114·B for
// three channels), summed over each non-overlapping p×p patch, and the
// m² patches (m = W/p) are ordered: most relevant first (MoRF), least
// relevant first (LRF), or in a seeded random order. Ties keep patch order.
//
// Step k = 1…m flips the next 2k−1 patches (k² patches after step k, all
// after step m); step m+1 sets every pixel of every channel to the
// midpoint (min+max)/2 of the original image. Flips accumulate. Step 0 is
// the unperturbed input. The score of a step is the logit of the explained
// class.
//
// # Metrics
//
// AUC is the trapezoidal area under the curve with x = 0, 1, 2, … (not
// normalized), for the mean curve over the batch and for every image:
//
//	AUC = Σ_{k=0}^{S−1} (y_k + y_{k+1}) / 2.
//
// AOPC = 1/(S+1) Σ_{k=0}^{S} (y_0 − y_k); ABPC = AUC(LRF) − AUC(MoRF).
// A faithful explanation has a low MoRF AUC, a high LRF AUC and a high
// ABPC.
//
// Summarize computes the mean curve and these metrics of any set of curves
// (Run calls it for its batch), ABPC combines the summaries of the two
// orders, and Merge joins the results of Run on consecutive batches, so
// that a dataset evaluated batch by batch gives the numbers of one run.
//
// # Further metrics
//
// Each is a function over the same batched scorer, returns one value per
// image, and is registered by its kebab-case name (Metrics, LookupMetric,
// ParseMetrics; Metric.Compute takes a MetricInput):
//
//	srg                       AUC(LRF) − AUC(MoRF) per image (SRG, Blücher et al. 2024) ↑
//	irof                      K − AUC of y_k/y_0 removing SLIC superpixels (Rieger & Hansen 2020) ↑
//	faithfulness-correlation  corr(Σ_S R, f(x) − f(x_S)) over random patch subsets (Bhatt et al. 2020) ↑
//	selectivity               AUC removing one patch at a time, MoRF (Montavon et al. 2018) ↓
//	sensitivity-n             the same correlation, averaged over subset sizes n (Ancona et al. 2018) ↑
//	monotonicity              Spearman(R_j, (f(x_j) − f(x))²/f(x)²) over patches (Nguyen & Martínez 2020) ↑
//	infidelity                mean_j (Σ R ⊙ (x − x_j) − (f(x) − f(x_j)))² (Yeh et al. 2019) ↓
//	mprt                      Spearman of |R| with cascadingly randomized models (Adebayo et al. 2018) ↓
//	random-logit              SSIM of R for the target and a random other class (Sixt et al. 2020) ↓
//	sparseness                Gini index of |R| (Chalasani et al. 2020) ↑
//	complexity                entropy of |R|/Σ|R| (Bhatt et al. 2020) ↓
//
// Features are the p×p patches of pixel flipping (all channels), so every
// perturbation mode, inpainting included, fills them; relevance is
// reduced to one channel by luminance as for the patch order. Scores are
// logits. Where Quantus defines a metric differently, the function's doc
// comment says how.
//
// # Scoring
//
// Flipping does not depend on the model, so the perturbed inputs of all
// steps are produced first (images in parallel) and scored in batched
// forward passes of at most MaxBatch inputs.
package eval
