import { Packr } from 'msgpackr'
import type { UnsignedMemberRecord } from './membership-types.js'

const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true })

/** Domain separation: these bytes can never be mistaken for another signed structure. */
const DOMAIN = 'grapevine/member/2'

/**
 * The canonical bytes a membership record's signature covers: msgpack of a fixed-order array
 * (domain, cluster, kind, id, gen, incarnation, accuser, name, addresses), and an ALIVE's
 * `covered` after them when it states one. The cluster name is in it so that a record of one
 * cluster cannot be replayed into another. `covered` is appended only when present, so a
 * record without it signs the bytes older senders signed, and none can be added to it.
 */
export function memberRecordBytes(cluster: string, record: UnsignedMemberRecord): Uint8Array {
  const from = record.kind === 'suspect' || record.kind === 'dead' ? record.from : ''
  const name = record.kind === 'alive' ? record.name : ''
  const addrs = record.kind === 'alive' ? record.addrs : []
  const fields: unknown[] = [
    DOMAIN,
    cluster,
    record.kind,
    record.id,
    record.gen,
    record.incarnation,
    from,
    name,
    addrs,
  ]
  if (record.kind === 'alive' && record.covered !== undefined) fields.push(record.covered)
  return packr.pack(fields)
}
