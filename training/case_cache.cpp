#include "case_cache.hpp"

#include "../pipeline/errors.hpp"

namespace c2f {

CaseCache::CaseCache(std::size_t capacity, Loader loader) : capacity_(capacity), loader_(std::move(loader)) {
  if (capacity_ < 1) throw OptionError("the case cache must hold at least one case");
}

std::shared_ptr<const PreparedCase> CaseCache::get(std::size_t index) {
  std::promise<std::shared_ptr<const PreparedCase>> promise;
  std::shared_future<std::shared_ptr<const PreparedCase>> value;
  bool owner = false;  // this request loads the case; others wait on its future
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(index); it != entries_.end()) {
      it->second.last_use = ++clock_;
      value = it->second.value;
    } else {
      owner = true;
      value = promise.get_future().share();
      entries_[index] = {value, ++clock_};
      while (entries_.size() > capacity_) {  // drop the least recently used other case
        auto lru = entries_.end();
        for (auto e = entries_.begin(); e != entries_.end(); ++e)
          if (e->first != index && (lru == entries_.end() || e->second.last_use < lru->second.last_use)) lru = e;
        entries_.erase(lru);
      }
    }
  }
  if (owner) {
    try {
      ++loads_;
      promise.set_value(std::make_shared<const PreparedCase>(loader_(index)));
    } catch (...) {
      promise.set_exception(std::current_exception());
      std::lock_guard lock(mutex_);
      entries_.erase(index);  // a failed load is not cached
    }
  }
  return value.get();
}

}  // namespace c2f
