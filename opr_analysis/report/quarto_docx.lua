--[[
The annual report in Word (Quarto 1.7+; listed in quarto_report.yaml with `at: post-render`,
so it runs after Quarto has turned tables and figures into plain pandoc elements).

1. Real tables, not nested. Quarto renders every captioned float in Word as a one-cell
   «layout table» holding the caption and the content (customnodes/floatreftarget.lua,
   FloatRefTarget renderer for docx). A data table inside such a cell is squeezed by
   LibreOffice (words break: «Nasjon al», «1 6 52») and read as two tables by screen
   readers. Each layout table whose single cell holds one float (a Div with id tbl-… or
   fig-…) is replaced by that Div: caption paragraph and table (or image) at the top level.
   The Div keeps its id, so cross-references still point at it. A table caption gets the
   style «Table Caption» (Quarto gives every caption «Image Caption»); both caption styles
   and «Figure» keep with the next paragraph (quarto_reference.docx).
2. A table of contents that is filled when the document is opened. Pandoc writes an empty
   TOC field that Word fills only when the reader updates fields, and LibreOffice never. Here
   the field carries its entries (headings to toc-depth, with their section numbers, linked
   to the headings) and is marked dirty, so Word also refreshes it with page numbers.
   `toc` is false for docx in the settings so pandoc does not write a second one.
]]

if not quarto.doc.is_format("docx") then
  return {}
end

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

local TEXT_WIDTH_PT = 470 -- A4 with 2,2 cm margins (quarto_reference.docx)
local CELL_MARGINS_PT = 6 -- 3 pt left and right (the «Table» style)
local EM_PER_CHAR = 0.58 -- Arial's digits are 0,556 em wide, bold header letters about as much

local function points(chars, size_pt)
  return chars * EM_PER_CHAR * size_pt + CELL_MARGINS_PT
end

-- Column widths for Word in proportion to what the columns hold, so the table spans the text width
-- and no column is narrower than its longest unbreakable piece (LibreOffice squeezes an autofit table
-- to its narrowest and then breaks inside words). Row labels wrap after about 26 characters, other
-- cells after 14. A table too wide for 9 pt is set in 7,5 pt (paragraph style «Table Small»).
local function column_widths(tbl)
  local ncol = #tbl.colspecs
  if ncol < 2 then
    return false
  end
  for _, spec in ipairs(tbl.colspecs) do
    if spec[2] ~= nil and spec[2] ~= 0 then
      return false
    end
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
  local small = total(least, 9) > TEXT_WIDTH_PT
  local size = small and 7.5 or 9
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
  for i = 1, ncol do
    tbl.colspecs[i] = { tbl.colspecs[i][1], widths[i] / sum }
  end
  return small
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

local function shape_table(tbl)
  align_rows(tbl.head.rows)
  for _, body in ipairs(tbl.bodies) do
    align_rows(body.head)
    align_rows(body.body)
  end
  align_rows(tbl.foot.rows)
  if column_widths(tbl) then
    small_rows(tbl.head.rows)
    for _, body in ipairs(tbl.bodies) do
      small_rows(body.head)
      small_rows(body.body)
    end
  end
  return tbl
end

local function unnest(blocks)
  return blocks:walk({
    Table = function(tbl)
      local div = float_div(tbl)
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
    table.insert(xml, '<w:hyperlink w:anchor="' .. xml_escape(e.id) .. '" w:history="1">')
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
  local blocks = unnest(doc.blocks)
  local title = doc.meta["toc-title"] and pandoc.utils.stringify(doc.meta["toc-title"]) or "Innhold"
  local depth = tonumber(doc.meta["toc-depth"] and pandoc.utils.stringify(doc.meta["toc-depth"]) or "2") or 2
  local toc = toc_block(blocks, title, depth)
  if toc then
    blocks:insert(1, toc)
  end
  doc.blocks = blocks
  return doc
end
