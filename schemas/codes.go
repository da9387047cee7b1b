package schemas

// Reason codes, the values of ErrorRow.Code: one per kind of failure, so
// errors.parquet can be grouped and counted without parsing Reason. The
// table in README.md ("Reason codes") lists the same codes; ReasonCodes is
// the one list the tests hold both to.
const (
	// CodeBlankLine is a JSONL or CSV line that is empty or white space only: no row at all.
	CodeBlankLine = "blank_line"
	// CodeEmptyText is a row whose text is empty or white space only (a blank line of a text file too).
	CodeEmptyText = "empty_text"
	// CodeInvalidUTF8 is a row whose text, id or label is not valid UTF-8.
	CodeInvalidUTF8 = "invalid_utf8"
	// CodeMissingField is a row without a usable text field: missing, null, or not a string.
	CodeMissingField = "missing_field"
	// CodeBadField is a row whose id or label field is neither a string nor an integer.
	CodeBadField = "bad_field"
	// CodeDuplicateID is a row whose id an earlier row of the same file already has.
	CodeDuplicateID = "duplicate_id"
	// CodeParseError is a malformed row: invalid JSON, not a JSON object, invalid CSV, or a CSV row with the wrong field count.
	CodeParseError = "parse_error"
	// CodeUnreadableFile is a whole input file that could not be opened or read (line 0).
	CodeUnreadableFile = "unreadable_file"
	// CodeTokenizeError is a text the tokenizer failed on.
	CodeTokenizeError = "tokenize_error"
	// CodeNoTokens is a text with no tokens besides the special tokens.
	CodeNoTokens = "no_tokens"
	// CodeTooLong is an example a method refuses for its length (e.g. flow beyond max_length); truncation to the model's length is not an error.
	CodeTooLong = "too_long"
	// CodeModelError is ONNX Runtime failing while a method scored or differentiated the example.
	CodeModelError = "model_error"
	// CodeNonFinite is a NaN or infinite value in a method's result or a perturbed input's score, refused rather than written.
	CodeNonFinite = "non_finite"
	// CodeMethodError is any other failure of a method on the example.
	CodeMethodError = "method_error"
	// CodeCounterfactualNotFlipped is a counterfactual that did not change the prediction when scored again on its own; it is dropped.
	CodeCounterfactualNotFlipped = "counterfactual_not_flipped"
	// CodeEmptyContinuation is a prompt the model generated no token for (task: generation).
	CodeEmptyContinuation = "empty_continuation"
)

// ReasonCode documents one reason code: the stage whose rows carry it and what it means.
type ReasonCode struct {
	// Code is the value of ErrorRow.Code.
	Code string
	// Stage is the ErrorRow.Stage of the rows with this code.
	Stage string
	// Meaning says in one line what failed.
	Meaning string
}

// ReasonCodes lists every reason code, in the order README.md documents them.
var ReasonCodes = []ReasonCode{
	{CodeUnreadableFile, StageRead, "A whole input file could not be opened or read (`line` 0, `raw` empty); its rows are missing and the run fails."},
	{CodeBlankLine, StageRead, "A JSONL or CSV line that is empty or white space only: no row at all."},
	{CodeParseError, StageRead, "A malformed row: invalid JSON, a JSON value that is not an object, invalid CSV quoting, or a CSV row whose field count differs from the header's."},
	{CodeInvalidUTF8, StageRead, "The text (or the id or label) is not valid UTF-8; Glassbox never replaces the bytes silently."},
	{CodeMissingField, StageRead, "No usable text field: missing, null, or not a string (e.g. a JSON number)."},
	{CodeBadField, StageRead, "The id or label field is neither a string nor an integer (e.g. a fraction, a boolean, an object)."},
	{CodeEmptyText, StageRead, "The text is empty or white space only (so is a blank line of a text file)."},
	{CodeDuplicateID, StageRead, "The row's id was already used by an earlier row of the same file (the first is explained)."},
	{CodeTokenizeError, StageTokenize, "The tokenizer failed on the text."},
	{CodeNoTokens, StageTokenize, "The text has no tokens besides the special tokens."},
	{CodeTooLong, StageExplain, "A method refuses the example for its length (e.g. `flow` beyond its `max_length`). Texts longer than the model's maximum length are truncated and flagged (`truncated`), not refused."},
	{CodeModelError, StageExplain, "ONNX Runtime failed while a method scored perturbed inputs or computed gradients for the example."},
	{CodeNonFinite, StageExplain, "A NaN or infinite value in a method's result or in the model's score of a perturbed input; refused rather than written."},
	{CodeMethodError, StageExplain, "Any other failure of a method on the example."},
	{CodeCounterfactualNotFlipped, StageExplain, "A counterfactual the search found did not change the prediction when its text was scored again on its own (tokenized afresh, a batch of one); the counterfactual is dropped, the example's explanations are kept. It should never happen: it means the model's scores depend on batching."},
	{CodeEmptyContinuation, StageExplain, "`task: generation`: the model generated no token for the prompt (a stop token or string came first), so there is nothing to explain."},
}

// KnownCode reports whether code is one of ReasonCodes; an error row with any
// other code is a bug.
func KnownCode(code string) bool {
	for _, c := range ReasonCodes {
		if c.Code == code {
			return true
		}
	}
	return false
}
