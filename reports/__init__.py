"""Reports: comparison tables (Markdown, LaTeX, HTML, CSV), plots, paper reference numbers, the CI gate."""
