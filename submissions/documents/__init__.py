"""The documents that go out: the 审批表 of one text, the publication bundle (公开文本) of a
department's approved texts in a fiscal year, each as .docx and PDF, and the exchange
workbook (.xlsx) for the county's budget system.

One reading of a text (`content.document_of`) feeds every format, so that the Word file,
the PDF and the 审批表 page show the same rows under the same labels; the labels, columns
and choices come from `submissions.tables` and `submissions.sections`. These modules only
render: which texts, who may have them and the stage rows of the 审批表 are the caller's
(the pages and the API ask `workflow.selectors`).
"""
