-- certagent-policy(5): every table of docs/policy.md becomes a definition list (.TP), the
-- usual form of a man page: a terminal of 80 columns has no room for tbl's tables of five
-- or six columns of prose (groff warns that it cannot fit or break them). The first cell
-- of a row is the term; a second column is its text, more columns each a "Header: text"
-- paragraph (empty and "—" cells left out).
function Table(tbl)
  local simple = pandoc.utils.to_simple_table(tbl)
  local items = {}
  for _, row in ipairs(simple.rows) do
    local term = pandoc.utils.blocks_to_inlines(row[1])
    local body = {}
    if #row == 2 then
      body = row[2]
    else
      for i = 2, #row do
        local text = pandoc.utils.stringify(row[i])
        if text ~= "" and text ~= "—" then
          local para = {pandoc.Strong(pandoc.utils.blocks_to_inlines(simple.headers[i])), pandoc.Str(":"), pandoc.Space()}
          for _, x in ipairs(pandoc.utils.blocks_to_inlines(row[i])) do table.insert(para, x) end
          table.insert(body, pandoc.Para(para))
        end
      end
    end
    table.insert(items, {term, {body}})
  end
  return pandoc.DefinitionList(items)
end
