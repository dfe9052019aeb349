-- SPDX-License-Identifier: GPL-2.0
--
-- vmmc-wire.lua - a Wireshark dissector for the datagrams between the
-- vmmc-fabric processes of a cluster (tools/fabric/WIRE.md, version 2)
--
-- Use: wireshark -X lua_script:vmmc-wire.lua (or copy it into
-- ~/.local/lib/wireshark/plugins/). UDP datagrams that start with the
-- magic "VMMW" are taken whatever their port; the display filter is
-- "vmmcw". Both CRC32Cs are checked: the datagram's over the wire header
-- and the link packet's header (vmmcw.crc_ok), the link packet's over its
-- header and payload (vmmcw.pkt.crc_ok); an expert warning when one fails.

local p = Proto("vmmcw", "vmmc fabric wire")

local kinds = { [1] = "PKT", [2] = "HELLO" }
local types = {
	[1] = "PING", [2] = "PONG", [3] = "DATA", [4] = "DATA_RESP",
	[5] = "IMPORT_REQ", [6] = "IMPORT_RESP", [7] = "ACK", [8] = "VOID",
}

local f = p.fields
f.magic = ProtoField.uint32("vmmcw.magic", "Magic", base.HEX)
f.version = ProtoField.uint8("vmmcw.version", "Version")
f.kind = ProtoField.uint8("vmmcw.kind", "Kind", base.DEC, kinds)
f.sender = ProtoField.uint8("vmmcw.sender", "Sender fabric")
f.crc = ProtoField.uint32("vmmcw.crc", "CRC32C", base.HEX)
f.crc_ok = ProtoField.bool("vmmcw.crc_ok", "CRC good")
f.len = ProtoField.uint32("vmmcw.len", "Length")
f.cluster = ProtoField.uint64("vmmcw.cluster", "Cluster hash", base.HEX)
f.boot = ProtoField.uint64("vmmcw.boot", "Sender boot epoch")
f.dst_boot = ProtoField.uint64("vmmcw.dst_boot", "Receiver boot epoch")
f.src_node = ProtoField.uint32("vmmcw.pkt.src_node", "Source node")
f.dst_node = ProtoField.uint32("vmmcw.pkt.dst_node", "Destination node")
f.type = ProtoField.uint16("vmmcw.pkt.type", "Type", base.DEC, types)
f.status = ProtoField.uint16("vmmcw.pkt.status", "Status")
f.seq = ProtoField.uint32("vmmcw.pkt.seq", "Sequence number")
f.epoch = ProtoField.uint32("vmmcw.pkt.epoch", "Link epoch")
f.ack = ProtoField.uint32("vmmcw.pkt.ack", "Ack (next expected)")
f.sack = ProtoField.bytes("vmmcw.pkt.sack", "Selective ack bitmap")
f.src_ep = ProtoField.uint32("vmmcw.pkt.src_ep", "Source endpoint")
f.src_gen = ProtoField.uint32("vmmcw.pkt.src_gen", "Source endpoint gen")
f.cookie = ProtoField.uint64("vmmcw.pkt.cookie", "Cookie", base.HEX)
f.imm = ProtoField.uint64("vmmcw.pkt.imm", "Immediate", base.HEX)
f.plen = ProtoField.uint32("vmmcw.pkt.len", "Payload length")
f.pcrc = ProtoField.uint32("vmmcw.pkt.crc", "Packet CRC32C", base.HEX)
f.pcrc_ok = ProtoField.bool("vmmcw.pkt.crc_ok", "Packet CRC good")
f.flags = ProtoField.uint32("vmmcw.pkt.flags", "Flags", base.HEX)
f.export_id = ProtoField.uint32("vmmcw.pkt.export_id", "Export id")
f.name = ProtoField.uint32("vmmcw.pkt.name", "Export name", base.HEX)
f.msg_len = ProtoField.uint32("vmmcw.pkt.msg_len", "SEND length")
f.export_gen = ProtoField.uint64("vmmcw.pkt.export_gen", "Export gen")
f.dst_offset = ProtoField.uint64("vmmcw.pkt.dst_offset", "Offset in export")
f.msg_offset = ProtoField.uint64("vmmcw.pkt.msg_offset", "SEND offset")
f.exp_len = ProtoField.uint64("vmmcw.pkt.exp_len", "Export length")
f.key = ProtoField.uint64("vmmcw.pkt.key", "Key", base.HEX)
f.payload = ProtoField.bytes("vmmcw.payload", "Payload")

local bad_crc = ProtoExpert.new("vmmcw.bad_crc", "Datagram CRC32C fails",
				expert.group.CHECKSUM, expert.severity.WARN)
local bad_pcrc = ProtoExpert.new("vmmcw.pkt.bad_crc",
				 "Link packet CRC32C fails",
				 expert.group.CHECKSUM, expert.severity.WARN)
p.experts = { bad_crc, bad_pcrc }

local HDR, PKT = 40, 144
local MAGIC = 0x574d4d56

-- CRC32C (Castagnoli, reflected), as fabric_crc32c(0, ...)
local crc_table = {}
for i = 0, 255 do
	local c = i
	for _ = 1, 8 do
		if bit32.band(c, 1) == 1 then
			c = bit32.bxor(bit32.rshift(c, 1), 0x82f63b78)
		else
			c = bit32.rshift(c, 1)
		end
	end
	crc_table[i] = c
end

-- of @len bytes from @off, the 4 at @off + @crc_at taken as 0
local function crc32c(tvb, off, len, crc_at)
	local s = tvb:raw(off, len)
	local c = 0xffffffff
	for i = 1, len do
		local b = s:byte(i)
		if i > crc_at and i <= crc_at + 4 then b = 0 end
		c = bit32.bxor(crc_table[bit32.band(bit32.bxor(c, b), 0xff)],
			       bit32.rshift(c, 8))
	end
	return bit32.bxor(c, 0xffffffff)
end

-- field list of the link packet: { field, offset, size }
local pkt_layout = {
	{ f.src_node, 0, 4 }, { f.dst_node, 4, 4 }, { f.type, 8, 2 },
	{ f.status, 10, 2 }, { f.seq, 12, 4 }, { f.epoch, 16, 4 },
	{ f.ack, 20, 4 }, { f.sack, 24, 32 }, { f.src_ep, 56, 4 },
	{ f.src_gen, 60, 4 }, { f.cookie, 64, 8 }, { f.imm, 72, 8 },
	{ f.plen, 80, 4 }, { f.pcrc, 84, 4 }, { f.flags, 88, 4 },
	{ f.export_id, 92, 4 }, { f.name, 96, 4 }, { f.msg_len, 100, 4 },
	{ f.export_gen, 104, 8 }, { f.dst_offset, 112, 8 },
	{ f.msg_offset, 120, 8 }, { f.exp_len, 128, 8 }, { f.key, 136, 8 },
}

local function dissect(tvb, pinfo, tree)
	local len = tvb:len()
	if len < HDR or tvb(0, 4):le_uint() ~= MAGIC then
		return false
	end
	pinfo.cols.protocol = "VMMCW"
	local t = tree:add(p, tvb(), "vmmc fabric wire")
	local kind = tvb(5, 1):uint()
	local crc = tvb(8, 4):le_uint()
	-- the headers only: the payload is the link packet CRC's
	local good = crc32c(tvb, 0, math.min(len, HDR + PKT), 8) == crc
	t:add_le(f.magic, tvb(0, 4))
	t:add(f.version, tvb(4, 1))
	t:add(f.kind, tvb(5, 1))
	t:add(f.sender, tvb(6, 1))
	local ci = t:add_le(f.crc, tvb(8, 4))
	t:add(f.crc_ok, good)
	if not good then
		ci:add_proto_expert_info(bad_crc)
	end
	t:add_le(f.len, tvb(12, 4))
	t:add_le(f.cluster, tvb(16, 8))
	t:add_le(f.boot, tvb(24, 8))
	t:add_le(f.dst_boot, tvb(32, 8))
	local info_bad = ""
	local info = string.format("fabric %d %s", tvb(6, 1):uint(),
				   kinds[kind] or "?")
	if kind == 1 and len >= HDR + PKT then
		local pt = t:add(p, tvb(HDR, PKT), "Link packet")
		local plen = tvb(HDR + 80, 4):le_uint()
		local pgood = HDR + PKT + plen <= len and
			crc32c(tvb, HDR, PKT + plen, 84) ==
			tvb(HDR + 84, 4):le_uint()
		for _, l in ipairs(pkt_layout) do
			local r = tvb(HDR + l[2], l[3])
			local it
			if l[1] == f.sack then
				it = pt:add(l[1], r)
			else
				it = pt:add_le(l[1], r)
			end
			if l[1] == f.pcrc and not pgood then
				it:add_proto_expert_info(bad_pcrc)
			end
		end
		pt:add(f.pcrc_ok, pgood)
		if not pgood then
			info_bad = " [bad packet CRC]"
		end
		local ty = tvb(HDR + 8, 2):le_uint()
		info = string.format("node%d -> node%d %s epoch %d seq %d",
				     tvb(HDR, 4):le_uint(),
				     tvb(HDR + 4, 4):le_uint(),
				     types[ty] or "?",
				     tvb(HDR + 16, 4):le_uint(),
				     tvb(HDR + 12, 4):le_uint())
		if ty == 7 then
			info = info .. string.format(" ack %d",
						     tvb(HDR + 20, 4):le_uint())
		end
		if len > HDR + PKT then
			t:add(f.payload, tvb(HDR + PKT))
		end
	end
	if not good then
		info = info .. " [bad CRC]"
	end
	info = info .. info_bad
	pinfo.cols.info = info
	return true
end

function p.dissector(tvb, pinfo, tree)
	dissect(tvb, pinfo, tree)
end

p:register_heuristic("udp", dissect)
