--[[
The annual report's Lua filter for Word and PDF (Typst); Quarto 1.7+. Listed in
quarto_report.yaml with `at: post-render`, so it runs after Quarto has turned tables and
figures into plain pandoc elements. It does nothing for HTML.

Tables (Word and PDF): columns get widths in proportion to what they hold, and never less than
their longest piece that cannot break («1 601», «95 % KI», «23,0–36,1 %» hold no-break spaces
and word joiners). Left to themselves, Typst shares a too-wide table's width out evenly and lets
unbreakable text overprint the next column (Tabell 8: «Svarandel» over «95 % KI»), a source note
spanning all columns widens the last one, and LibreOffice squeezes an autofit Word table to its
narrowest and breaks inside words. A table that does not fit in the normal table size is set
smaller (Word: paragraph style «Table Small»; PDF: the table's text size).

Word only:
1. Real tables, not nested. Quarto renders every captioned float in Word as a one-cell
   «layout table» holding the caption and the content (customnodes/floatreftarget.lua,
   FloatRefTarget renderer for docx). A data table inside such a cell is squeezed by
   LibreOffice (words break: «Nasjon al», «1 6 52») and read as two tables by screen
   readers. Each layout table whose single cell holds one float (a Div with id tbl-… or
   fig-…) is replaced by that Div: caption paragraph and table (or image) at the top level.
   The Div keeps its id, so cross-references still point at it. Captions get the styles
   «Table Caption» and «Image Caption» and the image «Figure» (quarto_reference.docx: a table
   caption and an image keep with what follows). great-tables' alignment classes (gt_right …)
   become cell alignment, which pandoc's HTML reader leaves out.
2. A table of contents that is filled when the document is opened. Pandoc writes an empty
   TOC field that Word fills only when the reader updates fields, and LibreOffice never. Here
   the field carries its entries (headings to toc-depth, with their section numbers, linked
   to the headings) and is marked dirty, so Word also refreshes it with page numbers.
   `toc` is false for docx in the settings so pandoc does not write a second one.
]]

local DOCX = quarto.doc.is_format("docx")
local TYPST = quarto.doc.is_format("typst")
if not (DOCX or TYPST) then
  return {}
end

-- Text width of the A4 page with 2,2 cm margins (quarto_reference.docx, quarto_report.yaml), table
-- text sizes, mean character width in em (digits are 0,5-0,56 em; bold header letters about as
-- much) and the cell padding left + right. Word: the «Table» style asks for 3 pt a side, but
-- LibreOffice keeps its own 0,19 cm, so columns are sized for that.
local METRICS = DOCX and { text = 470, size = 9, small = 7.5, em = 0.58, padding = 11 }
  or { text = 470, size = 8.5, small = 7.5, em = 0.55, padding = 7 }

local function float_div(tbl)
  if #tbl.head.rows ~= 0 or #tbl.bodies ~= 1 or #tbl.foot.rows ~= 0 then
    return nil
  end
  local rows = tbl.bodies[1].body
  if #rows ~= 1 or #rows[1].cells ~= 1 then
    return nil
  end
  local contents = rows[1].cells[1].contents
  if #contents ~= 1 or contents[1].t ~= "Div" then
    return nil
  end
  local id = contents[1].identifier or ""
  if id:match("^tbl%-") or id:match("^fig%-") then
    return contents[1]
  end
  return nil
end

local function is_caption(block)
  if block.t ~= "Para" or #block.content == 0 then
    return false
  end
  local first = block.content[1]
  return first.t == "RawInline" and first.format == "openxml" and first.text:match("Caption") ~= nil
end

-- The float's blocks as Word paragraphs with their own styles: the caption (Quarto's raw <w:pPr>
-- dropped) as «Table Caption» or «Image Caption», the image paragraph as «Figure».
local function restyle(div)
  local caption_style = div.identifier:match("^tbl%-") and "Table Caption" or "Image Caption"
  local out = pandoc.List()
  for _, block in ipairs(div.content) do
    local has_image = false
    if block.t == "Plain" or block.t == "Para" then
      block:walk({ Image = function() has_image = true end })
    end
    if is_caption(block) then
      local inlines = block.content:clone()
      inlines:remove(1)
      out:insert(pandoc.Div({ pandoc.Para(inlines) }, { ["custom-style"] = caption_style }))
    elseif has_image then
      out:insert(pandoc.Div({ pandoc.Para(block.content) }, { ["custom-style"] = "Figure" }))
    else
      out:insert(block)
    end
  end
  div.content = out
  return div
end

-- great-tables marks alignment with classes (gt_left, gt_right, gt_center) that pandoc's HTML
-- reader keeps on the cells but does not turn into alignment: numbers would sit on the left.
local ALIGN = { gt_right = pandoc.AlignRight, gt_center = pandoc.AlignCenter, gt_left = pandoc.AlignLeft }

local function cell_align(cell)
  for _, class in ipairs(cell.attr.classes) do
    if ALIGN[class] then
      cell.alignment = ALIGN[class]
      return
    end
  end
end

-- Lengths in characters: the whole text, and its longest piece that cannot break (Lua's %s is ASCII
-- white space only, so a no-break space keeps «1 601», «95 % KI» and «23,0–36,1 %» whole).
local function lengths(cell)
  local text = pandoc.utils.stringify(cell.contents)
  local longest = 0
  for word in text:gmatch("%S+") do
    longest = math.max(longest, utf8.len(word) or #word)
  end
  return utf8.len(text) or #text, longest
end

local TEXT_WIDTH_PT = METRICS.text

local function points(chars, size_pt)
  return chars * METRICS.em * size_pt + METRICS.padding
end

-- Column widths (module comment): what the columns hold, row labels wrapping after about 26
-- characters and other cells after 14, never less than the longest unbreakable piece; in the PDF a
-- table narrower than the page keeps its natural width. Widths the HTML asked for (great-tables'
-- cols_width, in pixels of a web page) are replaced. Returns the text size the table needs.
local function column_widths(tbl)
  local ncol = #tbl.colspecs
  if ncol < 2 then
    return METRICS.size
  end
  local need, least = {}, {}
  for i = 1, ncol do
    need[i], least[i] = 3, 3
  end
  local function measure(rows, header)
    for _, row in ipairs(rows) do
      local col = 1
      for _, cell in ipairs(row.cells) do
        if cell.col_span == 1 and need[col] then
          local all, piece = lengths(cell)
          local cap = col == 1 and 26 or 14
          least[col] = math.max(least[col], piece)
          need[col] = math.max(need[col], piece, header and piece or math.min(all, cap))
        end
        col = col + cell.col_span
      end
    end
  end
  measure(tbl.head.rows, true)
  for _, body in ipairs(tbl.bodies) do
    measure(body.head, true)
    measure(body.body, false)
  end
  local function total(chars, size)
    local sum = 0
    for i = 1, ncol do
      sum = sum + points(chars[i], size)
    end
    return sum
  end
  local size = total(least, METRICS.size) > TEXT_WIDTH_PT and METRICS.small or METRICS.size
  local widths = {}
  if total(need, size) <= TEXT_WIDTH_PT then
    for i = 1, ncol do
      widths[i] = points(need[i], size)
    end
  else -- every column gets its unbreakable minimum, the rest of the line goes where text wraps
    local spare = math.max(TEXT_WIDTH_PT - total(least, size), 0)
    local wish = total(need, size) - total(least, size)
    for i = 1, ncol do
      local extra = points(need[i], size) - points(least[i], size)
      widths[i] = points(least[i], size) + (wish > 0 and spare * extra / wish or 0)
    end
  end
  local sum = 0
  for i = 1, ncol do
    sum = sum + widths[i]
  end
  -- Fractions of the text width. PDF: a narrow table keeps its natural width. Word: pandoc turns the
  -- fractions into grid columns of a 5,5 in page whatever the reference document says, and only a
  -- table whose fractions add up to 1 is stretched to the real text width (tblW 100 %).
  local scale = DOCX and sum or math.max(sum, TEXT_WIDTH_PT)
  for i = 1, ncol do
    tbl.colspecs[i] = { tbl.colspecs[i][1], widths[i] / scale }
  end
  return size
end

-- pandoc gives a custom style to paragraphs in a cell, not to its plain text blocks
local function as_para(block)
  if block.t == "Plain" then
    return pandoc.Para(block.content)
  end
  return block
end

local function small_rows(rows)
  for _, row in ipairs(rows) do
    for _, cell in ipairs(row.cells) do
      cell.contents = { pandoc.Div(cell.contents:map(as_para), { ["custom-style"] = "Table Small" }) }
    end
  end
end

local function align_rows(rows)
  for _, row in ipairs(rows) do
    for _, cell in ipairs(row.cells) do
      cell_align(cell)
    end
  end
end

local function row_count(tbl)
  local n = #tbl.head.rows
  for _, body in ipairs(tbl.bodies) do
    n = n + #body.head + #body.body
  end
  return n
end

-- PDF: the source note (the table's footer) becomes a paragraph under the table, and a table of at
-- most SHORT_TABLE_ROWS rows is kept on one page together with its note. A footer that no longer
-- fits on a page would otherwise appear alone on the next one under a repeated header row.
local SHORT_TABLE_ROWS = 24

local function typst_table(tbl, size)
  tbl.attributes["typst:text:size"] = size .. "pt"
  local note = pandoc.Blocks({})
  for _, row in ipairs(tbl.foot.rows) do
    for _, cell in ipairs(row.cells) do
      note:extend(cell.contents)
    end
  end
  tbl.foot.rows = {}
  local short = row_count(tbl) <= SHORT_TABLE_ROWS
  local out = pandoc.Blocks({})
  if short then
    out:insert(pandoc.RawBlock("typst", "#block(breakable: false, width: 100%)["))
  end
  out:insert(tbl)
  if #note > 0 then
    out:insert(pandoc.RawBlock("typst", "#block(above: 0.4em, width: 100%)[#set text(size: " .. size .. "pt)"))
    out:extend(note)
    out:insert(pandoc.RawBlock("typst", "]"))
  end
  if short then
    out:insert(pandoc.RawBlock("typst", "]"))
  end
  return out
end

local function shape_table(tbl)
  local size = column_widths(tbl)
  if TYPST then
    return typst_table(tbl, size)
  end
  align_rows(tbl.head.rows)
  for _, body in ipairs(tbl.bodies) do
    align_rows(body.head)
    align_rows(body.body)
  end
  align_rows(tbl.foot.rows)
  if size < METRICS.size then
    small_rows(tbl.head.rows)
    for _, body in ipairs(tbl.bodies) do
      small_rows(body.head)
      small_rows(body.body)
    end
  end
  return tbl
end

local function shape_tables(blocks)
  return blocks:walk({
    Table = function(tbl)
      local div = DOCX and float_div(tbl)
      if div then
        return restyle(div)
      end
      return shape_table(tbl)
    end,
  })
end

local function xml_escape(text)
  return (text:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"):gsub('"', "&quot;"))
end

-- The name pandoc gives a heading's bookmark: Word allows 40 characters, so a longer identifier
-- becomes «X» and 39 hex digits of its SHA-1 (pandoc's Docx writer, bookmark names).
local function bookmark(id)
  if (utf8.len(id) or #id) <= 40 then
    return id
  end
  return "X" .. pandoc.utils.sha1(id):sub(2)
end

local function toc_block(blocks, title, depth)
  local entries = {}
  blocks:walk({
    Header = function(h)
      if h.level <= depth and h.identifier ~= "" then
        table.insert(entries, { level = h.level, id = h.identifier, text = pandoc.utils.stringify(h.content) })
      end
    end,
  })
  if #entries == 0 then
    return nil
  end
  local xml = {
    '<w:sdt><w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/><w:docPartUnique/>',
    "</w:docPartObj></w:sdtPr><w:sdtContent>",
    '<w:p><w:pPr><w:pStyle w:val="TOCHeading"/></w:pPr><w:r><w:t xml:space="preserve">',
    xml_escape(title),
    "</w:t></w:r></w:p>",
  }
  for i, e in ipairs(entries) do
    table.insert(xml, '<w:p><w:pPr><w:pStyle w:val="TOC' .. e.level .. '"/></w:pPr>')
    if i == 1 then
      table.insert(xml, '<w:r><w:fldChar w:fldCharType="begin" w:dirty="true"/></w:r>')
      table.insert(
        xml,
        '<w:r><w:instrText xml:space="preserve"> TOC \\o "1-' .. depth .. '" \\h \\z \\u </w:instrText></w:r>'
      )
      table.insert(xml, '<w:r><w:fldChar w:fldCharType="separate"/></w:r>')
    end
    table.insert(xml, '<w:hyperlink w:anchor="' .. xml_escape(bookmark(e.id)) .. '" w:history="1">')
    table.insert(xml, '<w:r><w:t xml:space="preserve">' .. xml_escape(e.text) .. "</w:t></w:r></w:hyperlink>")
    if i == #entries then
      table.insert(xml, '<w:r><w:fldChar w:fldCharType="end"/></w:r>')
    end
    table.insert(xml, "</w:p>")
  end
  table.insert(xml, "</w:sdtContent></w:sdt>")
  return pandoc.RawBlock("openxml", table.concat(xml))
end

function Pandoc(doc)
  local blocks = shape_tables(doc.blocks)
  if TYPST then
    doc.blocks = blocks
    return doc
  end
  local title = doc.meta["toc-title"] and pandoc.utils.stringify(doc.meta["toc-title"]) or "Innhold"
  local depth = tonumber(doc.meta["toc-depth"] and pandoc.utils.stringify(doc.meta["toc-depth"]) or "2") or 2
  local toc = toc_block(blocks, title, depth)
  if toc then
    blocks:insert(1, toc)
  end
  doc.blocks = blocks
  return doc
end
