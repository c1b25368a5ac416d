#include "frag.h"

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "hash_table.h"

namespace ipshare {
namespace {
constexpr uint32_t kNil = 0xffffffff;
}

std::unique_ptr<FragTable> FragTable::create(const std::string& name, uint32_t datagrams, uint32_t max_waiting,
                                             std::string* err) {
    std::unique_ptr<FragTable> t(new FragTable());
    t->hash_ = make_hash(name, datagrams, sizeof(FragKey), RTE_HASH_EXTRA_FLAGS_EXT_TABLE, err);
    if (!t->hash_) return nullptr;
    t->entries_ = static_cast<Entry*>(rte_zmalloc(nullptr, sizeof(Entry) * datagrams, 64));
    if (!t->entries_) {
        *err = "cannot allocate the fragment table " + name;
        return nullptr;
    }
    t->capacity_ = datagrams;
    t->max_waiting_ = max_waiting;
    for (uint32_t i = 0; i < datagrams; ++i) t->entries_[i].next = i + 1 < datagrams ? i + 1 : kNil;
    t->free_ = datagrams ? 0 : kNil;
    t->head_ = t->tail_ = kNil;
    return t;
}

FragTable::~FragTable() {
    for (uint32_t e = head_; e != kNil; e = entries_[e].next)
        for (unsigned i = 0; i < entries_[e].nwait; ++i) rte_pktmbuf_free(entries_[e].wait[i]);
    rte_hash_free(hash_);
    rte_free(entries_);
}

uint32_t FragTable::find(const FragKey& k) const {
    void* data;
    if (rte_hash_lookup_data(hash_, &k, &data) < 0) return kNil;
    return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(data));
}

uint32_t FragTable::add(const FragKey& k, uint32_t now) {
    if (free_ == kNil) return kNil;
    const uint32_t e = free_;
    if (rte_hash_add_key_data(hash_, &k, reinterpret_cast<void*>(uintptr_t{e})) != 0) return kNil;
    free_ = entries_[e].next;
    Entry& en = entries_[e];
    en.key = k;
    en.known = false;
    en.nwait = 0;
    en.created = now;
    en.next = kNil;
    if (tail_ != kNil) entries_[tail_].next = e; else head_ = e;
    tail_ = e;
    ++used_;
    return e;
}

// Only ever called on the head (entries leave in creation order).
void FragTable::release(uint32_t e) {
    Entry& en = entries_[e];
    rte_hash_del_key(hash_, &en.key);
    head_ = en.next;
    if (head_ == kNil) tail_ = kNil;
    en.next = free_;
    free_ = e;
    --used_;
}

void FragTable::record(const FragKey& k, const FragVerdict& v, uint32_t now, rte_mbuf** released,
                       unsigned* nreleased) {
    *nreleased = 0;
    uint32_t e = find(k);
    if (e == kNil) e = add(k, now);
    if (e == kNil) return;  // table full: later fragments will be treated as unmatched
    Entry& en = entries_[e];
    en.verdict = v;
    en.known = true;
    for (unsigned i = 0; i < en.nwait; ++i) released[i] = en.wait[i];
    *nreleased = en.nwait;
    waiting_total_ -= en.nwait;
    en.nwait = 0;
}

FragTable::Result FragTable::lookup_or_wait(const FragKey& k, rte_mbuf* m, uint32_t now, FragVerdict* v) {
    uint32_t e = find(k);
    if (e != kNil && entries_[e].known) {
        *v = entries_[e].verdict;
        return Result::known;
    }
    if (waiting_total_ >= max_waiting_) return Result::full;
    if (e == kNil) e = add(k, now);
    if (e == kNil) return Result::full;
    Entry& en = entries_[e];
    if (en.nwait >= kMaxWaitingPerDatagram) return Result::full;
    en.wait[en.nwait++] = m;
    ++waiting_total_;
    return Result::waiting;
}

}  // namespace ipshare
