/**
 * A small stand-in for the Kakao Maps JavaScript SDK (dapi.kakao.com), the
 * outside world the client's carpool form loads for its map: just what
 * MapModal.tsx calls (maps.load, Map, LatLng, Marker, CustomOverlay,
 * services.Geocoder.addressSearch, services.Places.keywordSearch, Status).
 * Served through Playwright's page.route; every other request of the client
 * goes to the real backend or the client's own server.
 */

export interface StandInPlace {
  place_name: string;
  address_name: string;
  road_address_name: string;
  /** longitude */
  x: string;
  /** latitude */
  y: string;
}

/** What keywordSearch finds: the places the journey picks. */
export const KAKAO_PLACES: StandInPlace[] = [
  {
    place_name: '오목천역 수인분당선',
    address_name: '경기 수원시 권선구 오목천동 588',
    road_address_name: '경기 수원시 권선구 수인로 지하 14',
    x: '126.9534',
    y: '37.2431',
  },
  {
    place_name: '수원역 1호선',
    address_name: '경기 수원시 팔달구 매산로1가 18',
    road_address_name: '경기 수원시 팔달구 덕영대로 924',
    x: '127.0001',
    y: '37.2656',
  },
];

export function kakaoMapsStandIn(places: StandInPlace[] = KAKAO_PLACES): string {
  return `(() => {
  const places = ${JSON.stringify(places)};
  class LatLng { constructor(lat, lng) { this.lat = lat; this.lng = lng; } getLat() { return this.lat; } getLng() { return this.lng; } }
  class MapView {
    constructor(container, options) {
      this.container = container; this.center = options && options.center;
      container.setAttribute('data-kakao-standin', 'map');
      container.style.background = 'repeating-linear-gradient(45deg,#e8f0e0,#e8f0e0 12px,#dfe8d6 12px,#dfe8d6 24px)';
    }
    setCenter(c) { this.center = c; this.container.setAttribute('data-center', c.lat + ',' + c.lng); }
    getCenter() { return this.center; }
  }
  class Marker { constructor(o) { this.position = o.position; this.map = o.map; } setMap(m) { this.map = m; } setPosition(p) { this.position = p; } }
  class CustomOverlay {
    constructor(o) { this.o = o; this.el = null; }
    setMap(m) {
      if (this.el) { this.el.remove(); this.el = null; }
      if (m && m.container) {
        this.el = document.createElement('div');
        this.el.setAttribute('data-kakao-standin', 'overlay');
        this.el.style.cssText = 'position:absolute;left:50%;top:40%;transform:translate(-50%,-100%);z-index:5';
        this.el.innerHTML = this.o.content;
        m.container.appendChild(this.el);
      }
    }
  }
  const Status = { OK: 'OK', ZERO_RESULT: 'ZERO_RESULT', ERROR: 'ERROR' };
  class Geocoder {
    addressSearch(query, cb) {
      const hit = places.find((p) => query.includes(p.address_name) || query.includes(p.road_address_name));
      const r = hit ? { ...hit } : { place_name: query, address_name: query, road_address_name: query, x: '127.0365', y: '37.5000' };
      setTimeout(() => cb([r], Status.OK), 0);
    }
  }
  class Places {
    keywordSearch(query, cb) {
      const q = String(query).trim();
      const found = places.filter((p) => p.place_name.includes(q) || p.address_name.includes(q));
      setTimeout(() => cb(found, found.length ? Status.OK : Status.ZERO_RESULT), 0);
    }
  }
  window.kakao = window.kakao || {};
  window.kakao.maps = { load: (fn) => setTimeout(fn, 0), LatLng, Map: MapView, Marker, CustomOverlay, services: { Geocoder, Places, Status } };
})();`;
}
