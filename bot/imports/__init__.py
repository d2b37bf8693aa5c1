"""KPI values from the exports teams already have (生意参谋, 京东商智, 巨量引擎, GA4, Google Ads; CSV or XLSX):
`reader` opens a file and finds its header, `cells` reads its numbers and dates, `presets` names its columns,
`engine` previews and imports, `store` runs the import's statements."""
