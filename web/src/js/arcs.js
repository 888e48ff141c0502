// SPDX-License-Identifier: BSD-2-Clause
// arcs.js: every arc of the globe in one instanced draw call, plus the place dots and the home marker.
//
// DESIGN: one shared strip geometry (SEGMENTS steps along t in [0, 1], two vertices per step, one on
// each side) is instanced once per drawn arc. The vertex shader puts each step on the great circle
// between home and the place (slerp), raises it by height * sin(pi t), and pushes the two sides apart
// in screen space, so width is in pixels whatever the zoom. Per-arc data (ends, colour, width,
// height, pulses, fade) lives in instanced attributes; a data change rewrites those arrays once (no
// per-frame CPU work), and animation (fade in, fade to "closed", moving pulses) runs on uTime.
// 5,000 places in "both" mode are 10,000 instances in one draw call.
import * as THREE from '../vendor/three.module.js';
import { higher } from './state.js';

const SEGMENTS = 32;
export const GLOBE_LIFT = 1.003;

const VERT = /* glsl */ `
attribute float aT;
attribute float aSide;
attribute vec3 aStart;
attribute vec4 aBasis;	// unit vector perpendicular to aStart towards the place, and the angle between them
attribute vec3 aColor;
attribute vec4 aShape;	// width px, height, pulses, direction (+1 home->place, -1 place->home)
attribute vec4 aAnim;	// birth s, fade start s, alpha from, alpha to
attribute float aDim;
attribute float aStyle;	// 1: low attention (dashed far end)
uniform float uTime;
uniform vec2 uViewport;
uniform float uPixelRatio;
varying float vT;
varying float vSide;
varying float vHalf;
varying vec3 vColor;
varying float vAlpha;
varying vec2 vPulse;
varying float vStyle;

// The great circle from aStart as cos/sin of one angle (the basis comes from the CPU), raised by
// height * sin(pi t); also its derivative, for the screen-space direction. Four trig calls a vertex.
vec3 arcPoint(float t, out vec3 tangent) {
	float a = t * aBasis.w;
	float ca = cos(a), sa = sin(a);
	vec3 dir = ca * aStart + sa * aBasis.xyz;
	float r = ${GLOBE_LIFT.toFixed(4)} + aShape.y * sin(3.14159265 * t);
	tangent = aBasis.w * r * (ca * aBasis.xyz - sa * aStart) + dir * (aShape.y * 3.14159265 * cos(3.14159265 * t));
	return dir * r;
}

void main() {
	float grow = clamp((uTime - aAnim.x) / 1.2, 0.0, 1.0);
	float t = aT * grow;
	vec3 tan_;
	vec3 p = arcPoint(t, tan_);
	mat4 mvp = projectionMatrix * modelViewMatrix;
	vec4 cp = mvp * vec4(p, 1.0);
	vec4 cb = mvp * vec4(p + tan_ * 0.01, 1.0);
	vec2 d = (cb.xy / cb.w - cp.xy / cp.w) * uViewport;
	d = length(d) < 1e-6 ? vec2(1.0, 0.0) : normalize(d);
	vec2 n = vec2(-d.y, d.x);
	float half_ = 0.5 * aShape.x * uPixelRatio + 0.75;
	cp.xy += n * aSide * half_ * 2.0 / uViewport * cp.w;
	gl_Position = cp;
	vT = t;
	vSide = aSide;
	vHalf = half_;
	vColor = aColor;
	float fade = mix(aAnim.z, aAnim.w, clamp((uTime - aAnim.y) / 1.5, 0.0, 1.0));
	vAlpha = fade * grow * aDim;
	vPulse = aShape.zw;
	vStyle = aStyle;
}
`;

const FRAG = /* glsl */ `
uniform float uTime;
varying float vT;
varying float vSide;
varying float vHalf;
varying vec3 vColor;
varying float vAlpha;
varying vec2 vPulse;
varying float vStyle;

void main() {
	// Soft edges: the outermost pixel on each side fades out (cheap anti-aliasing).
	float edge = 1.0 - smoothstep(1.0 - 1.0 / vHalf, 1.0, abs(vSide));
	// Thin towards the ends so arcs land on a point.
	float ends = smoothstep(0.0, 0.04, vT) * smoothstep(0.0, 0.04, 1.0 - vT) * 0.6 + 0.4;
	vec3 col = vColor;
	float a = vAlpha * edge * ends;
	// Low attention: the last stretch towards the place is dashed (a mark that needs no colour).
	if (vStyle > 0.5 && vT > 0.7) a *= step(fract((vT - 0.7) * 20.0), 0.55);
	if (vPulse.x > 0.0) {
		float x = fract((vT * vPulse.y - uTime * 0.35) * vPulse.x);
		float pulse = smoothstep(0.7, 0.97, x) * (1.0 - smoothstep(0.97, 1.0, x));
		col = mix(col, vec3(1.0), pulse * 0.55);
		a = min(1.0, a + pulse * 0.8 * vAlpha);
	}
	// No discard: it would turn off early depth testing, and arcs behind the Earth would cost full price.
	gl_FragColor = vec4(col, a);
}
`;

const DOT_VERT = /* glsl */ `
attribute vec3 aColor;
attribute float aSize;
attribute float aDim;
attribute float aStyle;
uniform float uPixelRatio;
varying vec3 vColor;
varying float vDim;
varying float vStyle;
void main() {
	vec4 mv = modelViewMatrix * vec4(position, 1.0);
	gl_Position = projectionMatrix * mv;
	gl_PointSize = aSize * uPixelRatio;
	vColor = aColor;
	vDim = aDim;
	vStyle = aStyle;
}
`;

const DOT_FRAG = /* glsl */ `
varying vec3 vColor;
varying float vDim;
varying float vStyle;
void main() {
	vec2 c = gl_PointCoord - 0.5;
	float r = length(c) * 2.0;
	float core = 1.0 - smoothstep(0.55, 0.75, r);
	// Low attention: a hollow ring instead of a filled dot.
	if (vStyle > 0.5) core *= smoothstep(0.2, 0.32, r);
	float halo = (1.0 - smoothstep(0.75, 1.0, r)) * 0.35;
	float a = max(core, halo) * vDim;
	if (a < 0.01) discard;
	gl_FragColor = vec4(mix(vColor, vec3(1.0), core * 0.25), a);
}
`;

const HOME_FRAG = /* glsl */ `
uniform float uTime;
varying vec3 vColor;
varying float vDim;
void main() {
	vec2 c = gl_PointCoord - 0.5;
	float r = length(c) * 2.0;
	float a;
	if (vDim > 1.5) {
		// Home: a solid dot with a ring that breathes.
		float dot_ = 1.0 - smoothstep(0.22, 0.3, r);
		float ring = 1.0 - smoothstep(0.05, 0.1, abs(r - (0.55 + 0.12 * sin(uTime * 2.5))));
		a = max(dot_, ring * 0.9);
	} else {
		// Flows without a location: a thin grey ring at home, sized by their number.
		a = (1.0 - smoothstep(0.04, 0.1, abs(r - 0.9))) * 0.8;
	}
	if (a < 0.01) discard;
	gl_FragColor = vec4(vColor, a);
}
`;

// Unit vector for a latitude/longitude in the globe's frame (matches SphereGeometry's UVs).
export function latLonToVec3(lat, lon, r = 1, out = new THREE.Vector3()) {
	const polar = (90 - lat) * Math.PI / 180;
	const az = (lon + 180) * Math.PI / 180;
	return out.set(-r * Math.sin(polar) * Math.cos(az), r * Math.cos(polar), r * Math.sin(polar) * Math.sin(az));
}

/*
 * Height of an arc above the globe (in globe radii) for an angular distance in radians: it grows
 * with distance up to a quarter of the way round (0.15), then sinks again towards the far side
 * (0.09 at 15,000 km, 0.03 at the antipode), so arcs to the other side of the Earth hug the surface instead of
 * looping out into space.
 */
export function arcHeight(angle) {
	const a = Math.min(Math.PI, Math.max(0, angle));
	return a <= Math.PI / 2 ? 0.012 + 0.138 * Math.sin(a) : 0.03 + 0.12 * Math.sin(a) ** 2;
}

// A point of the arc at t, in JS, matching the vertex shader (for picking and labels).
export function arcPointJs(s, e, h, t, out) {
	const c = Math.min(1, Math.max(-1, s.dot(e)));
	const w = Math.acos(c);
	if (w < 1e-4) out.copy(s).lerp(e, t);
	else out.copy(s).multiplyScalar(Math.sin((1 - t) * w)).addScaledVector(e, Math.sin(t * w)).divideScalar(Math.sin(w));
	return out.normalize().multiplyScalar(GLOBE_LIFT + h * Math.sin(Math.PI * t));
}

// The instanced arcs, the place dots and the home marker, as one Group to add to the scene.
export class ArcLayer {
	constructor() {
		this.group = new THREE.Group();
		this.capacity = 0;
		this.count = 0;
		this.uniforms = {
			uTime: { value: 0 },
			uViewport: { value: new THREE.Vector2(1, 1) },
			uPixelRatio: { value: 1 },
		};
		// Shared strip: aT along the arc, aSide -1/+1 across it.
		const base = new THREE.InstancedBufferGeometry();
		const n = SEGMENTS + 1;
		const t = new Float32Array(n * 2);
		const side = new Float32Array(n * 2);
		const pos = new Float32Array(n * 2 * 3);
		for (let i = 0; i < n; i++) {
			t[2 * i] = t[2 * i + 1] = i / SEGMENTS;
			side[2 * i] = -1;
			side[2 * i + 1] = 1;
		}
		const idx = [];
		for (let i = 0; i < SEGMENTS; i++) {
			const a = 2 * i;
			idx.push(a, a + 1, a + 2, a + 1, a + 3, a + 2);
		}
		base.setIndex(idx);
		base.setAttribute('position', new THREE.BufferAttribute(pos, 3));
		base.setAttribute('aT', new THREE.BufferAttribute(t, 1));
		base.setAttribute('aSide', new THREE.BufferAttribute(side, 1));
		this.geometry = base;
		this.material = new THREE.ShaderMaterial({
			vertexShader: VERT, fragmentShader: FRAG, uniforms: this.uniforms,
			transparent: true, depthWrite: false, depthTest: true, blending: THREE.NormalBlending, side: THREE.DoubleSide,
		});
		this.mesh = new THREE.Mesh(base, this.material);
		this.mesh.frustumCulled = false;
		this.mesh.renderOrder = 3;
		this.group.add(this.mesh);
		this.ensure(256);
		base.instanceCount = 0;

		// Place dots: one point per place.
		this.dotGeom = new THREE.BufferGeometry();
		this.dotMat = new THREE.ShaderMaterial({
			vertexShader: DOT_VERT, fragmentShader: DOT_FRAG, uniforms: this.uniforms,
			transparent: true, depthWrite: false,
		});
		this.dots = new THREE.Points(this.dotGeom, this.dotMat);
		this.dots.frustumCulled = false;
		this.dots.renderOrder = 4;
		this.group.add(this.dots);

		// Home marker and the ring of flows without a location.
		this.homeGeom = new THREE.BufferGeometry();
		this.homeGeom.setAttribute('position', new THREE.BufferAttribute(new Float32Array(6), 3));
		this.homeGeom.setAttribute('aColor', new THREE.BufferAttribute(new Float32Array(6), 3));
		this.homeGeom.setAttribute('aSize', new THREE.BufferAttribute(new Float32Array([30, 0]), 1));
		this.homeGeom.setAttribute('aDim', new THREE.BufferAttribute(new Float32Array([2, 1]), 1));
		this.homeGeom.setAttribute('aStyle', new THREE.BufferAttribute(new Float32Array(2), 1));
		this.homeMat = new THREE.ShaderMaterial({
			vertexShader: DOT_VERT, fragmentShader: HOME_FRAG, uniforms: this.uniforms,
			transparent: true, depthWrite: false,
		});
		this.home = new THREE.Points(this.homeGeom, this.homeMat);
		this.home.frustumCulled = false;
		this.home.renderOrder = 5;
		this.group.add(this.home);
		this.homeVec = new THREE.Vector3(0, 0, 1);
		this.instances = [];	// {key, dir, start, end, h}
	}

	// Grow the instanced attribute arrays to hold at least n arcs.
	ensure(n) {
		if (n <= this.capacity) return;
		let cap = Math.max(256, this.capacity);
		while (cap < n) cap *= 2;
		const g = this.geometry;
		const mk = (name, size) => {
			const a = new THREE.InstancedBufferAttribute(new Float32Array(cap * size), size);
			a.setUsage(THREE.DynamicDrawUsage);
			g.setAttribute(name, a);
		};
		mk('aStart', 3); mk('aBasis', 4); mk('aColor', 3); mk('aShape', 4); mk('aAnim', 4); mk('aDim', 1); mk('aStyle', 1);
		this.capacity = cap;
		this.prevAnim = new Map();
	}

	// Set home; color is a CSS colour string.
	setHome(lat, lon, color) {
		latLonToVec3(lat, lon, 1, this.homeVec);
		const p = this.homeGeom.attributes.position;
		const v = this.homeVec.clone().multiplyScalar(GLOBE_LIFT + 0.001);
		p.setXYZ(0, v.x, v.y, v.z);
		p.setXYZ(1, v.x, v.y, v.z);
		p.needsUpdate = true;
		const c = new THREE.Color(color);
		const col = this.homeGeom.attributes.aColor;
		col.setXYZ(0, c.r, c.g, c.b);
		col.needsUpdate = true;
	}

	// Size and colour of the grey ring of flows that have no location (0 hides it).
	setLocal(count, color) {
		const size = this.homeGeom.attributes.aSize;
		size.setX(1, count > 0 ? Math.min(70, 30 + 9 * Math.log2(1 + count)) : 0);
		size.needsUpdate = true;
		const c = new THREE.Color(color);
		const col = this.homeGeom.attributes.aColor;
		col.setXYZ(1, c.r, c.g, c.b);
		col.needsUpdate = true;
	}

	/*
	 * Rewrite every instance from the places. opts: {direction, colorOf(level), widthOf(bytes),
	 * dimOf(place) -> 0..1, recentTraffic(key, dir) -> bool, pulses (bool), now (s)}. Each arc takes
	 * its direction's attention level (place.attentionSent / attentionReceived). Returns the number of
	 * places that got at least one arc.
	 */
	update(places, opts) {
		const list = [];
		for (const p of places.values()) {
			const dirs = [];
			const hasSent = p.bytesSent > 0 || p.packetsSent > 0;
			const hasRecv = p.bytesReceived > 0 || p.packetsReceived > 0;
			if (opts.direction !== 'received' && (hasSent || (!hasRecv && opts.direction === 'sent'))) dirs.push('sent');
			if (opts.direction !== 'sent' && hasRecv) dirs.push('received');
			if (opts.direction === 'both' && !dirs.length) dirs.push('sent');
			for (const d of dirs) list.push([p, d]);
		}
		this.ensure(list.length);
		const g = this.geometry;
		const A = (n) => g.attributes[n].array;
		const start = A('aStart'), basis = A('aBasis'), color = A('aColor'), shape = A('aShape'), anim = A('aAnim'), dim = A('aDim'), style = A('aStyle');
		const home = this.homeVec;
		const e = new THREE.Vector3();
		const u = new THREE.Vector3();
		const c = new THREE.Color();
		const now = opts.now;
		const prev = this.prevAnim;
		const next = new Map();
		const drawn = new Set();
		const shown = new Map();	// place key -> highest level among its arcs drawn in this view
		this.instances = [];
		list.forEach(([p, d], i) => {
			latLonToVec3(p.lat, p.lon, 1, e);
			const ang = Math.acos(Math.min(1, Math.max(-1, home.dot(e))));
			let h = arcHeight(ang);
			if (d === 'received' && opts.direction === 'both') h *= 0.78;
			const level = (d === 'sent' ? p.attentionSent : p.attentionReceived) || p.attention || 'none';
			c.set(opts.colorOf(level));
			const bytes = d === 'sent' ? p.bytesSent : p.bytesReceived;
			const sel = opts.selected === p.key;
			// The selected place's arcs are wider (and never dimmed): the eye finds them at once.
			const w = Math.max(1.1, opts.widthOf(bytes)) * (sel ? 1.7 : 1) + (sel ? 1.5 : 0);
			const live = p.active > 0;
			// Pulses: one slow train on an active arc; more while bytes are moving that way now.
			const recent = opts.recentTraffic(p.key, d);
			const pulses = opts.pulses !== false && (live || recent) ? Math.max(1, Math.min(4, Math.round(ang * 2.2))) * (recent ? 2 : 1) : 0;
			start.set([home.x, home.y, home.z], i * 3);
			// u: unit vector at right angles to home, in the plane of home and the place.
			u.copy(e).addScaledVector(home, -Math.cos(ang));
			if (u.lengthSq() < 1e-12) u.set(0, 1, 0).cross(home);
			if (u.lengthSq() < 1e-12) u.set(1, 0, 0);
			u.normalize();
			basis.set([u.x, u.y, u.z, ang], i * 4);
			color.set([c.r, c.g, c.b], i * 3);
			shape.set([w, h, pulses, d === 'sent' ? 1 : -1], i * 4);
			// Fade: remember the target alpha per (place, direction); a change starts a 1.5 s fade.
			const id = `${p.key}|${d}`;
			const target = live ? 0.85 : 0.3;
			const old = prev.get(id);
			let a;
			if (!old) a = [p.birth, now, target, target];
			else if (old[3] !== target) {
				const k = Math.min(1, Math.max(0, (now - old[1]) / 1.5));
				a = [old[0], now, old[2] + (old[3] - old[2]) * k, target];
			} else a = old;
			next.set(id, a);
			anim.set(a, i * 4);
			dim[i] = opts.dimOf(p);
			style[i] = level === 'low' ? 1 : 0;
			drawn.add(p.key);
			shown.set(p.key, higher(shown.get(p.key), level));
			this.instances.push({ key: p.key, dir: d, end: e.clone(), h, level, width: w });
		});
		this.prevAnim = next;
		for (const name of ['aStart', 'aBasis', 'aColor', 'aShape', 'aAnim', 'aDim', 'aStyle']) g.attributes[name].needsUpdate = true;
		g.instanceCount = list.length;
		this.count = list.length;

		// Dots at the places with an arc in this view, sized by number of flows, coloured by the highest
		// level of those arcs (low: a ring); a place with no arc in this direction shows no dot.
		const n = places.size;
		const pos = new Float32Array(n * 3), col = new Float32Array(n * 3), size = new Float32Array(n), dd = new Float32Array(n), st = new Float32Array(n);
		let i = 0;
		for (const p of places.values()) {
			latLonToVec3(p.lat, p.lon, GLOBE_LIFT + 0.001, e);
			pos.set([e.x, e.y, e.z], i * 3);
			const level = shown.get(p.key) || 'none';
			c.set(opts.colorOf(level));
			st[i] = level === 'low' ? 1 : 0;
			col.set([c.r, c.g, c.b], i * 3);
			size[i] = Math.min(16, 6 + 2.2 * Math.log2(p.flows));
			dd[i] = shown.has(p.key) ? opts.dimOf(p) * (p.active > 0 ? 1 : 0.7) : 0;
			i++;
		}
		this.dotGeom.setAttribute('position', new THREE.BufferAttribute(pos, 3));
		this.dotGeom.setAttribute('aColor', new THREE.BufferAttribute(col, 3));
		this.dotGeom.setAttribute('aSize', new THREE.BufferAttribute(size, 1));
		this.dotGeom.setAttribute('aDim', new THREE.BufferAttribute(dd, 1));
		this.dotGeom.setAttribute('aStyle', new THREE.BufferAttribute(st, 1));
		return drawn.size;
	}

	// Per-frame uniforms.
	tick(timeS, width, height, pixelRatio) {
		this.uniforms.uTime.value = timeS;
		this.uniforms.uViewport.value.set(width * pixelRatio, height * pixelRatio);
		this.uniforms.uPixelRatio.value = pixelRatio;
	}
}
